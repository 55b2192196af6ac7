/* guestkit: the storage pool backends, registered explicitly.
 *
 * dir and lvm are built in.  iscsi and rbd are loadable modules
 * (lib/modules.h: pool-iscsi.so, pool-rbd.so), loaded when a pool of that
 * type is first used, so that programs which never use them never load
 * libiscsi, librbd, librados and their many dependencies.
 */
#include <config.h>

#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "modules.h"
#include "pool-backend.h"

extern const struct pool_backend dir_backend;
extern const struct pool_backend lvm_backend;

static const struct pool_backend *const builtin[] = {
  &dir_backend,
  &lvm_backend,
};

/* The types backed by a module: the module is "pool-TYPE". */
static const char *const module_types[] = { "iscsi", "rbd" };

/* A registration from an older, smaller vtable is not trusted. */
static bool
usable (const struct pool_backend *b)
{
  return b->size >= sizeof (struct pool_backend) && b->vol_list != NULL &&
    b->vol_info != NULL && b->refresh != NULL;
}

bool
pool_backend_known (const char *type)
{
  size_t i;

  for (i = 0; i < sizeof builtin / sizeof builtin[0]; ++i)
    if (strcmp (builtin[i]->type, type) == 0)
      return true;
  for (i = 0; i < sizeof module_types / sizeof module_types[0]; ++i)
    if (strcmp (module_types[i], type) == 0)
      return true;
  return false;
}

const struct pool_backend *
pool_backend_get (gk_h *h, const char *type)
{
  size_t i;

  for (i = 0; i < sizeof builtin / sizeof builtin[0]; ++i)
    if (strcmp (builtin[i]->type, type) == 0 && usable (builtin[i]))
      return builtin[i];
  for (i = 0; i < sizeof module_types / sizeof module_types[0]; ++i) {
    const struct gk_pool_module *m;
    char name[32];

    if (strcmp (module_types[i], type) != 0)
      continue;
    snprintf (name, sizeof name, "pool-%s", type);
    m = gk_int_module_get (h, name, sizeof (struct gk_pool_module));
    if (m == NULL)
      return NULL;
    if (m->backend == NULL || !usable (m->backend) ||
        strcmp (m->backend->type, type) != 0) {
      error_errno (h, ELIBBAD, "the %s module has no usable %s backend",
                   name, type);
      return NULL;
    }
    return m->backend;
  }
  error_errno (h, ENOTSUP, "pool type ‘%s’ is not supported by this build",
               type);
  return NULL;
}
