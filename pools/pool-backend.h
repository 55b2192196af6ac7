/* guestkit: the storage pool backend vtable.
 *
 * One backend per pool type (pools/TYPE/TYPE.c), registered explicitly in
 * pools/registry.c.  The library (lib/pool.c, lib/vol.c) parses and stores
 * definitions, validates names, takes the pool's lock and then calls the
 * backend; the backend only talks to its storage.
 *
 * Contract, for every callback:
 * - Return 0 on success, -1 on error after setting the handle's error
 *   exactly once (error(), perrorf()).
 * - Callbacks are optional unless marked REQUIRED; a missing one makes the
 *   operation fail with "POOLTYPE pools do not support OPERATION" (ENOTSUP).
 * - A callback that fails removes whatever it half-created: a failed
 *   build leaves no half-made pool, a failed vol_create or vol_clone no
 *   volume, a failed upload restores nothing but also leaves no new file.
 * - The pool lock is held during the call; callbacks never lock.
 * - The struct only grows at the end; .size guards old registrations.
 *
 * Temporary names: a copy that must appear whole is made under the name
 * GK_TMP_PREFIX NAME and renamed into place when complete (the dir
 * backend does it per file, virt-clone per set of disks).  Every backend
 * accepts such names.  Outside an operation (the pool lock) a volume
 * with the prefix is the leftover of a killed one: gk_vol_list hides
 * them, gk_pool_list_leftovers lists them, gk_pool_clean removes them.
 */
#ifndef GUESTKIT_POOL_BACKEND_H
#define GUESTKIT_POOL_BACKEND_H

#include <stdint.h>
#include <stdbool.h>

#include "guestkit.h"

/* Not a valid start for a name libvirt or a user would pick: a dot (so
 * a dir pool's ls hides it) and our name.  lvm2 and RBD accept it.
 */
#define GK_TMP_PREFIX ".gk-tmp-"

struct pool_def;                /* lib/pool-xml.h */
struct gk_disk_source;          /* lib/disk-internal.h */
struct vol_def;

/* What a volume looks like, filled by vol_info / vol_list. */
struct vol_state {
  char *name;
  char *path;                   /* file or device path, or URI */
  char *format;                 /* raw, qcow2, ... */
  char *backing;                /* backing file, or NULL */
  char *backing_format;
  uint64_t capacity;            /* guest-visible bytes */
  uint64_t allocation;          /* bytes allocated on the storage */
};

struct pool_backend {
  size_t size;                  /* sizeof (struct pool_backend) */
  const char *type;             /* REQUIRED: "dir", "lvm", "iscsi", "rbd" */
  const char *xml_type;         /* the libvirt <pool type='...'> written */

  /* Validate a definition: required source/target elements present. */
  int (*check_def) (gk_h *h, const struct pool_def *def);

  /* Pools. */
  int (*build) (gk_h *h, const struct pool_def *def, unsigned flags);
  int (*start) (gk_h *h, const struct pool_def *def);
  int (*stop) (gk_h *h, const struct pool_def *def);
  /* REQUIRED: capacity, allocation and available bytes of the pool. */
  int (*refresh) (gk_h *h, const struct pool_def *def, uint64_t *capacity,
                  uint64_t *allocation, uint64_t *available);
  int (*delete_pool) (gk_h *h, const struct pool_def *def);

  /* Volumes.  REQUIRED: vol_list and vol_info.  vol_list returns every
   * volume, those named GK_TMP_PREFIX... too (the library hides them).
   */
  int (*vol_list) (gk_h *h, const struct pool_def *def, char ***names_rtn);
  int (*vol_info) (gk_h *h, const struct pool_def *def, const char *name,
                   struct vol_state *st);
  int (*vol_create) (gk_h *h, const struct pool_def *def,
                     const struct vol_def *vol);
  int (*vol_delete) (gk_h *h, const struct pool_def *def, const char *name);
  int (*vol_resize) (gk_h *h, const struct pool_def *def, const char *name,
                     uint64_t capacity, unsigned flags);
  /* Clone src (which may be in another pool, of any type) into this pool
   * as dst.  src_st describes the source volume.
   */
  int (*vol_clone) (gk_h *h, const struct pool_def *def, const char *dst,
                    const struct pool_def *src_def,
                    const struct vol_state *src_st, unsigned flags);
  int (*vol_wipe) (gk_h *h, const struct pool_def *def, const char *name);
  /* Stream a local file into the volume / the volume into a local file.
   * Holes are kept (sparse).  progress may be NULL.
   */
  int (*vol_upload) (gk_h *h, const struct pool_def *def, const char *name,
                     int fd, gk_progress_cb progress, void *opaque);
  int (*vol_download) (gk_h *h, const struct pool_def *def, const char *name,
                       int fd, gk_progress_cb progress, void *opaque);
  /* Rename a volume in place, data untouched.  The library has checked
   * both names, that old_name exists and new_name does not; the backend still
   * never replaces a volume that appeared meanwhile.
   */
  int (*vol_rename) (gk_h *h, const struct pool_def *def,
                     const char *old_name, const char *new_name);
  /* vol_clone writes into an EXISTING volume (iscsi: LUNs are made on
   * the target, never here).  The library then requires that dst exists
   * and holds at least the source's capacity; dst's old content is
   * overwritten entirely, and is undefined after a failed clone.
   */
  bool clone_into_existing;

  /* Block-level access to a volume (gk_disk_open_volume, for backup
   * tools; lib/disk-internal.h has the ops).  flags: GK_DISK_READWRITE.
   * NULL: the library opens vol_info's path as a local image with the
   * recorded format (dir and lvm volumes).
   */
  int (*vol_open_disk) (gk_h *h, const struct pool_def *def,
                        const char *name, unsigned flags,
                        struct gk_disk_source *src);
};

/* pools/registry.c.  Is the type one of ours (no module is loaded)? */
extern bool pool_backend_known (const char *type);
/* The type's backend, loading its module if needed; NULL with the
 * handle's error set if the type is unknown or its module cannot be
 * loaded.
 */
extern const struct pool_backend *pool_backend_get (gk_h *h,
                                                    const char *type);

#endif /* GUESTKIT_POOL_BACKEND_H */
