/* libguestkit: what pool.c shares with vol.c and the backends. */
#ifndef GUESTKIT_POOL_INTERNAL_H
#define GUESTKIT_POOL_INTERNAL_H

#include <string.h>

#include "internal.h"
#include "pool-xml.h"
#include "pool-backend.h"

extern char *gk_int_pool_file (gk_h *h, const char *name, const char *ext);
extern int gk_int_pool_lock (gk_h *h, const char *name);
extern void gk_int_pool_unlock (int fd);
extern bool gk_int_pool_active (gk_h *h, const char *name);
extern int gk_int_require_active (gk_h *h, const char *name);
extern struct pool_def *gk_int_load_pool (gk_h *h, const char *name,
                                          const struct pool_backend **b);
extern int gk_int_with_pool (gk_h *h, const char *name,
                             int (*fn) (gk_h *h, const char *name,
                                        struct pool_def *def,
                                        const struct pool_backend *b,
                                        void *arg),
                             void *arg);
extern void gk_int_free_vol_state (struct vol_state *st);
/* Does the volume name start with GK_TMP_PREFIX? */
static inline bool
gk_int_is_tmp_name (const char *name)
{
  return strncmp (name, GK_TMP_PREFIX, strlen (GK_TMP_PREFIX)) == 0;
}

#endif /* GUESTKIT_POOL_INTERNAL_H */
