/* guestkit: the storage pool backends, registered explicitly. */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "pool-backend.h"

extern const struct pool_backend dir_backend;
extern const struct pool_backend iscsi_backend;
extern const struct pool_backend lvm_backend;
extern const struct pool_backend rbd_backend;

static const struct pool_backend *const backends[] = {
  &dir_backend,
  &iscsi_backend,
  &lvm_backend,
  &rbd_backend,
};


const struct pool_backend *
pool_backend_lookup (const char *type)
{
  size_t i;

  for (i = 0; i < sizeof backends / sizeof backends[0]; ++i) {
    const struct pool_backend *b = backends[i];

    /* A registration from an older, smaller vtable is not trusted. */
    if (b->size < sizeof (struct pool_backend) || b->vol_list == NULL ||
        b->vol_info == NULL || b->refresh == NULL)
      continue;
    if (strcmp (b->type, type) == 0)
      return b;
  }
  return NULL;
}

