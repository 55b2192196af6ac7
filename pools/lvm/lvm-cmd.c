/* guestkit: lvm2 command lines as pure functions (see lvm-cmd.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>

#include "lvm-cmd.h"

#define MiB (UINT64_C (1) << 20)
#define GiB (UINT64_C (1) << 30)

const char *
lvm_name_invalid (const char *name)
{
  /* lvm(8): reserved because lvm2 makes LVs with these in their names. */
  static const char *const reserved[] = {
    "_cdata", "_cmeta", "_corig", "_iorig", "_mimage", "_mlog", "_pmspare",
    "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin", "_wcorig",
  };
  const char *p;
  size_t i;

  if (name == NULL || name[0] == '\0')
    return "is empty";
  if (strlen (name) > 127)
    return "is longer than 127 bytes";
  if (name[0] == '-')
    return "starts with ‘-’";
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return "is ‘.’ or ‘..’";
  if (strchr (name, '/'))
    return "contains ‘/’";
  for (p = name; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || strchr ("+_.-", *p)))
      return "may only contain a-z A-Z 0-9 + _ . -";
  if (strncmp (name, "snapshot", 8) == 0 || strncmp (name, "pvmove", 6) == 0)
    return "starts with a prefix lvm2 reserves (snapshot, pvmove)";
  for (i = 0; i < sizeof reserved / sizeof reserved[0]; ++i)
    if (strstr (name, reserved[i]))
      return "contains a suffix lvm2 reserves (_tdata, _tmeta, _rimage, ...)";
  return NULL;
}

uint64_t
lvm_round_up (uint64_t size, uint64_t extent)
{
  if (extent == 0 || size % extent == 0)
    return size;
  return size + (extent - size % extent);
}

int
lvm_thin_pool_sizes (uint64_t vg_free, uint64_t extent,
                     uint64_t *data, uint64_t *meta)
{
  uint64_t m = vg_free / 256;

  /* lvm2's bounds on thin pool metadata: 2 MiB .. ~15.8 GiB. */
  if (m < 4 * MiB)
    m = 4 * MiB;
  if (m > 15 * GiB)
    m = 15 * GiB;
  m = lvm_round_up (m, extent);
  if (vg_free <= 2 * m) {
    errno = ENOSPC;
    return -1;
  }
  *data = vg_free - 2 * m;
  if (extent)
    *data -= *data % extent;
  if (*data == 0) {
    errno = ENOSPC;
    return -1;
  }
  *meta = m;
  return 0;
}

/* Append the NULL-terminated list of strings, then a NULL. */
static int
build (string_vector *argv, ...)
{
  va_list ap;
  const char *s;

  va_start (ap, argv);
  while ((s = va_arg (ap, const char *)) != NULL) {
    char *copy = strdup (s);

    if (copy == NULL || string_vector_append (argv, copy) == -1) {
      free (copy);
      goto err;
    }
  }
  va_end (ap);
  if (string_vector_terminate (argv) == -1)
    goto err2;
  return 0;

 err:
  va_end (ap);
 err2:
  string_vector_free_all (argv);
  errno = ENOMEM;
  return -1;
}

/* "VG/LV" into buf; -1 if it does not fit (names are at most 127 each). */
static int
vg_lv (char *buf, size_t len, const char *vg, const char *lv)
{
  int n = snprintf (buf, len, "%s/%s", vg, lv);

  if (n < 0 || (size_t) n >= len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

#define SIZE_LEN 32
static const char *
bytes (char *buf, uint64_t size)
{
  snprintf (buf, SIZE_LEN, "%" PRIu64 "b", size);
  return buf;
}

int
lvm_cmd_pvcreate (string_vector *argv, const char *dev, bool overwrite)
{
  return build (argv, "pvcreate", overwrite ? "--yes" : "-qq", dev, NULL);
}

int
lvm_cmd_pvremove (string_vector *argv, const char *dev)
{
  return build (argv, "pvremove", dev, NULL);
}

int
lvm_cmd_vgcreate (string_vector *argv, const char *vg,
                  const char *const *devs)
{
  size_t i;

  if (build (argv, "vgcreate", vg, NULL) == -1)
    return -1;
  /* The devices after the VG (the NULL is not an item: it is
   * overwritten, then put back).
   */
  for (i = 0; devs && devs[i]; ++i) {
    char *copy = strdup (devs[i]);

    if (copy == NULL || string_vector_append (argv, copy) == -1) {
      free (copy);
      string_vector_free_all (argv);
      errno = ENOMEM;
      return -1;
    }
  }
  if (string_vector_terminate (argv) == -1) {
    string_vector_free_all (argv);
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

int
lvm_cmd_vgremove (string_vector *argv, const char *vg)
{
  return build (argv, "vgremove", "--force", vg, NULL);
}

int
lvm_cmd_vgchange (string_vector *argv, const char *vg, bool activate)
{
  return build (argv, "vgchange", "--activate", activate ? "y" : "n", vg,
                NULL);
}

int
lvm_cmd_vgs (string_vector *argv, const char *vg)
{
  return build (argv, "vgs", "--reportformat", "json", "--units", "b",
                "--nosuffix", "-o", LVM_VGS_FIELDS, vg, NULL);
}

int
lvm_cmd_pvs (string_vector *argv, const char *dev)
{
  return build (argv, "pvs", "--reportformat", "json", "--units", "b",
                "--nosuffix", "-o", LVM_PVS_FIELDS, dev, NULL);
}

int
lvm_cmd_lvs (string_vector *argv, const char *vg, const char *lv)
{
  char name[260];

  if (lv && vg_lv (name, sizeof name, vg, lv) == -1)
    return -1;
  return build (argv, "lvs", "--reportformat", "json", "--units", "b",
                "--nosuffix", "-o", LVM_LVS_FIELDS, lv ? name : vg, NULL);
}

/* --yes answers lvm2's "wipe the signature found on the new LV?": only
 * the new LV's own (stale) content is wiped, never anything else.
 */
int
lvm_cmd_lvcreate_linear (string_vector *argv, const char *vg, const char *lv,
                         uint64_t size, uint64_t extent)
{
  char s[SIZE_LEN];

  return build (argv, "lvcreate", "--yes", "--type", "linear",
                "--wipesignatures", "y", "--name", lv,
                "--size", bytes (s, lvm_round_up (size, extent)), vg, NULL);
}

/* --zero y: a chunk is zeroed when first provisioned, so a partial write
 * never exposes stale data and fresh thin LVs read as zeros (the clone
 * copies skip zero blocks on them).  --discards passdown: a discard on a
 * thin LV unmaps its chunks (vol-wipe relies on it).
 */
int
lvm_cmd_lvcreate_thin_pool (string_vector *argv, const char *vg,
                            const char *tp, uint64_t data, uint64_t meta)
{
  char d[SIZE_LEN], m[SIZE_LEN];

  return build (argv, "lvcreate", "--yes", "--type", "thin-pool",
                "--name", tp, "--size", bytes (d, data),
                "--poolmetadatasize", bytes (m, meta),
                "--zero", "y", "--discards", "passdown", vg, NULL);
}

int
lvm_cmd_lvcreate_thin (string_vector *argv, const char *vg, const char *tp,
                       const char *lv, uint64_t size, uint64_t extent)
{
  char s[SIZE_LEN];

  return build (argv, "lvcreate", "--yes", "--type", "thin",
                "--name", lv, "--virtualsize",
                bytes (s, lvm_round_up (size, extent)),
                "--thinpool", tp, vg, NULL);
}

/* Thin snapshots get the "activation skip" flag by default (vgchange -ay
 * would leave them inactive, with no /dev/VG/LV): a clone is a volume of
 * its own, so the flag is cleared and the LV activated at once.
 */
int
lvm_cmd_lvcreate_thin_snapshot (string_vector *argv, const char *vg,
                                const char *origin, const char *lv)
{
  char src[260];

  if (vg_lv (src, sizeof src, vg, origin) == -1)
    return -1;
  return build (argv, "lvcreate", "--snapshot", "--name", lv,
                "--setactivationskip", "n", "--activate", "y", src, NULL);
}

/* --force: no "really remove active LV?" prompt. */
int
lvm_cmd_lvremove (string_vector *argv, const char *vg, const char *lv)
{
  char name[260];

  if (vg_lv (name, sizeof name, vg, lv) == -1)
    return -1;
  return build (argv, "lvremove", "--force", name, NULL);
}

int
lvm_cmd_lvrename (string_vector *argv, const char *vg, const char *old_lv,
                  const char *new_lv)
{
  return build (argv, "lvrename", vg, old_lv, new_lv, NULL);
}

int
lvm_cmd_lvresize (string_vector *argv, const char *vg, const char *lv,
                  uint64_t size, uint64_t extent, bool shrink)
{
  char name[260], s[SIZE_LEN];

  if (vg_lv (name, sizeof name, vg, lv) == -1)
    return -1;
  bytes (s, lvm_round_up (size, extent));
  if (shrink)
    return build (argv, "lvresize", "--force", "--size", s, name, NULL);
  return build (argv, "lvresize", "--size", s, name, NULL);
}
