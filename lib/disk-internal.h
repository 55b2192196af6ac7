/* libguestkit: block-level disks (gk_disk), the source vtable.
 *
 * A gk_disk (guestkit.h, "BLOCK-LEVEL ACCESS") is a generic front
 * (lib/disk.c: range checks, merging, streaming reads, progress, cancel)
 * over one source behind struct gk_disk_ops, like nbdkit's plugins:
 *
 *   lib/disk-file.c     local images: raw files and devices, qcow2 chains
 *                       (the native reader), qcow2 dirty bitmaps
 *   lib/disk-nbd.c      libnbd: NBD URIs, qemu-nbd for writing images
 *                       and for reading dirty bitmaps, libvirt's exports
 *   pools/rbd/rbd.c     rbd volumes (librbd: diff_iterate2, snapshots)
 *   pools/iscsi/iscsi.c iSCSI LUNs (libiscsi: GET LBA STATUS)
 *   modules/domain.c    running domains: libvirt's backup API
 *
 * Every op gets the handle and the source's private data.  Errors: -1
 * with the handle's error set (once); ENOTSUP for "this source cannot".
 * Offsets and lengths are already checked against the size.
 */
#ifndef GUESTKIT_DISK_INTERNAL_H
#define GUESTKIT_DISK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "guestkit.h"

struct gk_disk_ops {
  const char *name;             /* "file", "qcow2", "nbd", "rbd", ... */

  /* REQUIRED. */
  int (*pread) (gk_h *h, void *priv, void *buf, size_t count,
                uint64_t offset);
  /* Writable sources only (GK_DISK_READWRITE); NULL otherwise. */
  int (*pwrite) (gk_h *h, void *priv, const void *buf, size_t count,
                 uint64_t offset);
  /* Make a range read as zeros, deallocating where possible.  NULL: the
   * front writes zero buffers.
   */
  int (*zero) (gk_h *h, void *priv, uint64_t offset, uint64_t length);
  int (*flush) (gk_h *h, void *priv);            /* may be NULL */

  /* Report [offset, offset+length) as extents (GK_EXTENT_*) in order,
   * covering it exactly; cb's non-zero return stops the walk and is
   * returned.  NULL: all data.  The front merges neighbours.
   */
  int (*extents) (gk_h *h, void *priv, uint64_t offset, uint64_t length,
                  gk_extent_cb cb, void *opaque);

  /* Checkpoints.  NULL: ENOTSUP. */
  int (*checkpoint_create) (gk_h *h, void *priv, const char *name);
  int (*checkpoint_delete) (gk_h *h, void *priv, const char *name);
  char **(*checkpoint_list) (gk_h *h, void *priv);
  /* Changed ranges since the checkpoint: cb(offset, length,
   * GK_EXTENT_DATA) for each, in order (unchanged ranges need not be
   * reported).  NULL: ENOTSUP.
   */
  int (*changed_extents) (gk_h *h, void *priv, const char *since,
                          uint64_t offset, uint64_t length,
                          gk_extent_cb cb, void *opaque);

  /* Release everything; returns -1 (error set) if a writable source
   * could not be flushed and closed cleanly.  priv is freed.
   */
  int (*close) (gk_h *h, void *priv);
};

/* What a source open fills in. */
struct gk_disk_source {
  const struct gk_disk_ops *ops;
  void *priv;
  uint64_t size;
};

/* lib/disk.c: wrap an opened source in a gk_disk (takes it over; on
 * failure the source is closed).  name, source, format are copied
 * (source/format may be NULL).
 */
extern gk_disk *gk_int_disk_new (gk_h *h, struct gk_disk_source *src,
                                 const char *name, const char *source,
                                 const char *format, unsigned flags);
/* 0 if name is a good checkpoint name, else -1 with an EINVAL error
 * "WHAT: bad checkpoint name ...".
 */
extern int gk_int_check_checkpoint_name (gk_h *h, const char *what,
                                         const char *name);
/* gk_disk_close, returning -1 (error set) when a writable source could
 * not be flushed and closed cleanly.
 */
extern int gk_int_disk_close_checked (gk_disk *d);

/* lib/disk-file.c: a local image (raw file, block device, qcow2 with
 * its chain, other formats through qemu-nbd).  format NULL: probe
 * (read-only only).
 */
extern int gk_int_disk_open_file (gk_h *h, const char *path,
                                  const char *format, unsigned flags,
                                  struct gk_disk_source *src);

/* lib/vol.c: the source of a pool volume (what gk_disk_open_volume
 * opens), with its path or URI and format (the caller frees them).
 */
extern int gk_int_vol_open_disk (gk_h *h, const char *pool, const char *name,
                                 unsigned flags, struct gk_disk_source *src,
                                 char **path_rtn, char **format_rtn);
/* The guestkit rbd pool over the rados pool ceph_pool with the monitor
 * host[:port] (host NULL: any), or NULL, no error set, if none: a domain's
 * rbd disk is then read through librbd with snapshots as checkpoints.
 */
extern char *gk_int_pool_find_rbd (gk_h *h, const char *ceph_pool,
                                   const char *host);

/* lib/disk-nbd.c: libnbd sources.  A qemu-nbd of a local image started
 * by libnbd (socket activation), read-only unless GK_DISK_READWRITE,
 * exposing the dirty bitmap named bitmap (may be NULL):
 */
extern int gk_int_disk_open_qemu_nbd (gk_h *h, const char *path,
                                      const char *format, unsigned flags,
                                      const char *bitmap,
                                      struct gk_disk_source *src);
/* An NBD server: a URI (nbd://, nbd+unix://, ...) or, when uri is NULL,
 * the Unix socket path with the export name; bitmap is the full meta
 * context name of a dirty bitmap ("qemu:dirty-bitmap:backup-vda") or
 * NULL.
 */
extern int gk_int_disk_open_nbd (gk_h *h, const char *uri,
                                 const char *socket, const char *export,
                                 const char *bitmap, unsigned flags,
                                 struct gk_disk_source *src);
/* The dirty ranges of an NBD source opened with a bitmap (for sources
 * that wrap one, e.g. a running domain's export).
 */
extern int gk_int_disk_nbd_dirty (gk_h *h, void *nbd_priv,
                                  uint64_t offset, uint64_t length,
                                  gk_extent_cb cb, void *opaque);
extern const struct gk_disk_ops gk_int_disk_nbd_ops;

/* lib/qcow2-writer.c: a new qcow2 image (v3, extended L2: 2 MiB
 * clusters of 64 KiB subclusters) at path, created O_EXCL (it must not exist), of size bytes (the header says
 * size rounded up to 512, as qemu-img create does), optionally an
 * overlay of backing (recorded as given, e.g. "../0001-.../vda.qcow2")
 * whose format is backing_format ("qcow2", "raw", ...).  Write-only and
 * without qemu: pwrite and zero must cover whole 64 KiB subclusters, except
 * a range ending at size (else EINVAL); zero records zero clusters in an
 * overlay and deallocates otherwise.  pread returns what was written,
 * zeros for clusters never written in an image without a backing file,
 * and EIO for those of an overlay (the writer does not read the backing
 * file).  The image is complete only once close returned 0; after a
 * failure the caller removes the file.
 */
extern int gk_int_qcow2_writer_open (gk_h *h, const char *path,
                                     uint64_t size, const char *backing,
                                     const char *backing_format,
                                     struct gk_disk_source *src);

#endif /* GUESTKIT_DISK_INTERNAL_H */
