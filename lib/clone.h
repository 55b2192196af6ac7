/* libguestkit: virt-clone's internals (lib/clone*.c). */
#ifndef GUESTKIT_CLONE_H
#define GUESTKIT_CLONE_H

#include <stdint.h>
#include <stdbool.h>

#include "guestkit.h"

/* clone-names.c: the next free name after orig ("foo" -> "foo-clone",
 * "foo-clone" -> "foo-clone1") and the path of a disk's clone.  taken()
 * returns 1 if a candidate is in use, 0 if free, -1 on error (set).
 */
extern char *gk_int_clone_name (gk_h *h, const char *orig,
                                int (*taken) (void *opaque, const char *name),
                                void *opaque);
extern char *gk_int_clone_path (gk_h *h, const char *orig_name,
                                const char *new_name, const char *orig_path,
                                int (*taken) (void *opaque, const char *path),
                                void *opaque);

/* clone-copy.c: copy a local file or device to a new file dst (which
 * must not exist), or make dst a qcow2 overlay of src.
 */
#define CLONE_COPY_NONSPARSE 1
#define CLONE_COPY_REFLINK   2    /* a reflink or nothing */
#define CLONE_COPY_LINKED    4
extern int gk_int_clone_copy_file (gk_h *h, const char *src,
                                   const char *src_format, const char *dst,
                                   unsigned flags, gk_progress_cb progress,
                                   void *opaque);

#endif /* GUESTKIT_CLONE_H */
