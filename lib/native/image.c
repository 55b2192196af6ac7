/* libguestkit native engine: a disk image and its backing chain (see
 * block.h).
 *
 * The format of an image decides how its bytes are interpreted, so it
 * must never come from the bytes of an image the user did not describe:
 * a guest that writes a qcow2 header into its raw disk would otherwise
 * make the host read any file as its "backing file" (CVE-2010-3851).
 * Hence: a format the user gave is used as is; only the top image is
 * probed, and only when the user gave no format; a backing file is
 * opened only with the format its overlay recorded.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "reader.h"
#include "block.h"

struct chain {
  unsigned n;
  struct {
    dev_t dev;
    ino_t ino;
    const char *path;
  } link[GK_NATIVE_MAX_CHAIN + 1];
};

/* "a -> b -> c" for messages (NULL if out of memory); a long chain
 * shows its first and last few images only.
 */
static char *
chain_string (const struct chain *c, const char *last)
{
  unsigned total = c->n + (last != NULL), i;
  char *s = strdup ("");

  for (i = 0; s && i < total; ++i) {
    const char *p = i < c->n ? c->link[i].path : last;
    char *t;

    if (total > 8 && i == 4) {
      if (asprintf (&t, "%s -> ... (%u more)", s, total - 7) == -1)
        t = NULL;
      i = total - 4;
    }
    else if (asprintf (&t, "%s%s%s", s, i ? " -> " : "", p) == -1)
      t = NULL;
    free (s);
    s = t;
  }
  return s;
}

/* The format from the image's first bytes: "qcow2", another format qemu
 * knows (to be read through qemu-nbd), or "raw".
 */
static int
probe (gk_h *h, const struct gk_reader *f, const char **format)
{
  unsigned char buf[512] = { 0 };
  size_t n = f->size < sizeof buf ? f->size : sizeof buf;

  if (gk_reader_pread (h, f, buf, n, 0) == -1)
    return -1;
  *format = "raw";
  if (n >= 8 && memcmp (buf, "QFI\xfb", 4) == 0)
    *format = buf[7] == 1 && buf[4] == 0 && buf[5] == 0 && buf[6] == 0
      ? "qcow" : "qcow2";
  else if (n >= 4 && memcmp (buf, "QED\0", 4) == 0)
    *format = "qed";
  else if (n >= 4 && memcmp (buf, "KDMV", 4) == 0)
    *format = "vmdk";
  else if (n >= 8 && memcmp (buf, "vhdxfile", 8) == 0)
    *format = "vhdx";
  else if (n >= 8 && memcmp (buf, "conectix", 8) == 0)
    *format = "vpc";
  else if (n >= 0x44 && memcmp (buf + 0x40, "\x7f\x10\xda\xbe", 4) == 0)
    *format = "vdi";
  debug (h, "native: %s: probed format: %s", f->name, *format);
  return 0;
}

/* The backing file's path: as recorded if absolute, else relative to
 * the directory of the image that records it (as qemu resolves it).
 */
static char *
backing_path (gk_h *h, const char *image, const char *backing)
{
  const char *slash = strrchr (image, '/');
  char *path;

  if (backing[0] == '/' || slash == NULL)
    path = strdup (backing);
  else if (asprintf (&path, "%.*s/%s", (int) (slash - image), image,
                     backing) == -1)
    path = NULL;
  if (path == NULL)
    perrorf (h, "malloc");
  return path;
}

static int
open_layer (gk_h *h, struct gk_reader *r, const char *path, const char *format,
            struct chain *c, char **why_rtn)
{
  struct gk_reader f = { 0 };
  const char *bfile, *bformat;
  CLEANUP_FREE char *bpath = NULL;
  struct gk_reader backing = { 0 };
  dev_t dev;
  ino_t ino;
  unsigned i;
  int ret;

  if (c->n > GK_NATIVE_MAX_CHAIN) {
    CLEANUP_FREE char *s = chain_string (c, path);
    error_errno (h, ELOOP, "%s: backing chain is longer than %d images: %s",
                 c->link[0].path, GK_NATIVE_MAX_CHAIN + 1, s ? s : "");
    return -1;
  }

  if (gk_reader_open_file (h, &f, path) == -1)
    return -1;
  if (gk_reader_file_identity (&f, &dev, &ino) == 0) {
    for (i = 0; i < c->n; ++i) {
      if (c->link[i].dev == dev && c->link[i].ino == ino) {
        CLEANUP_FREE char *s = chain_string (c, path);
        error_errno (h, ELOOP, "%s: backing chain loops: %s",
                     c->link[0].path, s ? s : path);
        gk_reader_close (&f);
        return -1;
      }
    }
  }
  c->link[c->n].dev = dev;
  c->link[c->n].ino = ino;
  c->link[c->n].path = path;
  c->n++;

  if (format == NULL && probe (h, &f, &format) == -1)
    goto err;

  if (strcmp (format, "raw") == 0) {
    *r = f;
    return 0;
  }
  if (strcmp (format, "qcow2") != 0) {
    /* qemu-nbd reads it; qemu then opens that image's own backing files
     * with their recorded formats.
     */
    gk_reader_close (&f);
    return gk_reader_open_nbd (h, r, path, format, why_rtn);
  }

  ret = gk_reader_open_qcow2 (h, r, &f, why_rtn);
  if (ret != 0) {
    gk_reader_close (&f);
    return ret;
  }
  gk_qcow2_backing (r, &bfile, &bformat);
  if (bfile == NULL)
    return 0;

  if (bformat == NULL) {
    ret = gk_int_native_unsure (h, why_rtn, "%s: the format of backing file "
                                "%s is not recorded (and backing files are "
                                "never probed)", path, bfile);
    goto err_r;
  }
  /* As qemu parses names: "proto:..." before any '/' is a protocol
   * (nbd:, json:, http://, ...), not a file.
   */
  if (bfile[strcspn (bfile, ":/")] == ':') {
    ret = gk_int_native_unsure (h, why_rtn, "%s: backing file %s is not a "
                                "local file", path, bfile);
    goto err_r;
  }
  bpath = backing_path (h, path, bfile);
  if (bpath == NULL)
    goto err_r_1;
  debug (h, "native: %s: backing file %s, format %s", path, bpath, bformat);
  ret = open_layer (h, &backing, bpath, bformat, c, why_rtn);
  if (ret != 0)
    goto err_r;
  gk_qcow2_set_backing (r, &backing);
  return 0;

 err_r_1:
  ret = -1;
 err_r:
  gk_reader_close (r);
  return ret;
 err:
  gk_reader_close (&f);
  return -1;
}

int
gk_reader_open_image (gk_h *h, struct gk_reader *r, const char *path,
                      const char *format, char **why_rtn)
{
  CLEANUP_FREE struct chain *c = calloc (1, sizeof *c);

  if (c == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  if (why_rtn)
    *why_rtn = NULL;
  return open_layer (h, r, path, format, c, why_rtn);
}
