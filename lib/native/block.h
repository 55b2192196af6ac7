/* libguestkit native engine: block sources, the bottom layer.
 *
 * Each function here fills in a struct gk_reader (see reader.h) that
 * offers the guest-visible bytes of a disk image; release it with
 * gk_reader_close.  All of them are read-only.
 *
 * Return values, as everywhere in the native engine: 0 on success; -1
 * with the handle's error set (bad input, I/O error, a corrupt image);
 * GK_NATIVE_UNSURE when the image uses something the native reader does
 * not do (encryption, an external data file, a backing file without a
 * recorded format, ...), with a reason in *why_rtn (when why_rtn is not
 * NULL; the caller frees it) and the handle's error untouched.
 */
#ifndef GUESTKIT_NATIVE_BLOCK_H
#define GUESTKIT_NATIVE_BLOCK_H

#include <sys/types.h>

#include "reader.h"

/* The longest backing chain gk_reader_open_image follows (the top image
 * and this many backing files below it).
 */
#define GK_NATIVE_MAX_CHAIN 64

/* file.c: a raw file or a block device, opened O_RDONLY.  Never unsure. */
extern int gk_reader_open_file (gk_h *h, struct gk_reader *r,
                                const char *path);
/* The device and inode of a reader made by gk_reader_open_file (for
 * loop detection).  -1 if r is not such a reader.
 */
extern int gk_reader_file_identity (const struct gk_reader *r,
                                    dev_t *dev, ino_t *ino);

/* qcow2.c: a qcow2 (v2 or v3) image over the reader of its file.
 *
 * On success r takes over *file (the caller must not close it; *file is
 * cleared); on failure or unsure the caller still owns it.  The image's
 * backing file is not opened here: ask for it with gk_qcow2_backing and
 * attach it with gk_qcow2_set_backing.  Until one is attached, the
 * clusters the image does not allocate read as zeros.
 */
extern int gk_reader_open_qcow2 (gk_h *h, struct gk_reader *r,
                                 struct gk_reader *file, char **why_rtn);
/* The backing file name and format recorded in the header of a qcow2
 * reader (NULL when absent).  The strings belong to r.
 */
extern void gk_qcow2_backing (const struct gk_reader *r,
                              const char **file_rtn, const char **format_rtn);
/* Attach the reader of the backing file: r takes it over (backing is
 * cleared), and closes it when r is closed.
 */
extern void gk_qcow2_set_backing (struct gk_reader *r,
                                  struct gk_reader *backing);

/* image.c: a disk image by path.  format is "raw" (never probed),
 * "qcow2", another format qemu knows (read through qemu-nbd), or NULL
 * to probe the top image (qcow2 magic, a few other formats' magic,
 * else raw).  Backing files are resolved relative to the directory of
 * the image that names them, followed only with the format recorded in
 * that image (never probed), and the chain may neither loop nor be
 * longer than GK_NATIVE_MAX_CHAIN.
 */
extern int gk_reader_open_image (gk_h *h, struct gk_reader *r,
                                 const char *path, const char *format,
                                 char **why_rtn);

/* nbd.c: any format qemu knows, through "qemu-nbd --read-only" on a
 * Unix socket in a private directory, read with libnbd.  Closing the
 * reader stops and reaps qemu-nbd.  Unsure when guestkit was built
 * without libnbd or qemu-nbd is not installed.
 */
extern int gk_reader_open_nbd (gk_h *h, struct gk_reader *r, const char *path,
                               const char *format, char **why_rtn);

#endif /* GUESTKIT_NATIVE_BLOCK_H */
