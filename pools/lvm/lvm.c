/* guestkit: the lvm pool backend (libvirt's "logical" pool).
 *
 * A pool is an LVM volume group (<source><name>, default the pool's name)
 * on the devices of <source><device>; a volume is an LV, /dev/VG/LV, raw.
 * lvm2's own commands do the work: their argv come from lvm-cmd.c (pure,
 * tested against golden files), their JSON reports are read by
 * lvm-report.c.
 *
 * guestkit extension: <guestkit:thinpool name='TP'/> in <source> makes the
 * pool's volumes thin LVs of the thin pool VG/TP, which pool-build creates
 * over most of the VG.  A clone inside the thin pool is a thin snapshot
 * (O(1)); any other clone is a new LV and a copy, removed again if the
 * copy fails.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "internal.h"
#include "pool-internal.h"
#include "file-util.h"
#include "lvm-cmd.h"
#include "lvm-report.h"

static const char *
vg_of (const struct pool_def *def)
{
  return def->source_name ? def->source_name : def->name;
}

/* Run an argv that an lvm_cmd_* builder made (built: its result). */
static int
run (gk_h *h, int built, string_vector *argv, char **out)
{
  int r;

  if (built == -1) {
    perrorf (h, "lvm");
    return -1;
  }
  r = gk_int_run (h, (const char *const *) argv->ptr, out);
  string_vector_free_all (argv);
  return r;
}

/* The same, without reporting a failure: for probes ("is it a PV?"). */
static int
run_quiet (gk_h *h, int built, string_vector *argv, char **out)
{
  int r;

  gk_push_error_handler (h, NULL, NULL);
  r = run (h, built, argv, out);
  gk_pop_error_handler (h);
  return r;
}

struct vg_info {
  uint64_t size, free, extent;
};

static int
parse_vg (gk_h *h, const char *vg, const char *json, struct vg_info *info)
{
  struct lvm_report rep;
  int r = -1;

  if (lvm_report_parse (h, json, "vg", LVM_VGS_FIELDS, &rep) == -1)
    return -1;
  if (rep.nr_rows != 1) {
    error_errno (h, ENOENT, "volume group ‘%s’ not found", vg);
    goto out;
  }
  if (lvm_report_get_u64 (h, &rep, 0, "vg_size", &info->size) == 0 &&
      lvm_report_get_u64 (h, &rep, 0, "vg_free", &info->free) == 0 &&
      lvm_report_get_u64 (h, &rep, 0, "vg_extent_size", &info->extent) == 0)
    r = 0;
 out:
  lvm_report_free (&rep);
  return r;
}

static int
get_vg (gk_h *h, const struct pool_def *def, struct vg_info *info)
{
  string_vector argv = empty_vector;
  CLEANUP_FREE char *out = NULL;
  const char *vg = vg_of (def);

  if (run_quiet (h, lvm_cmd_vgs (&argv, vg), &argv, &out) == -1) {
    error_errno (h, ENOENT, "lvm pool ‘%s’: volume group ‘%s’ not found "
                 "(build the pool first): %s", def->name, vg,
                 gk_last_error (h));
    return -1;
  }
  return parse_vg (h, vg, out, info);
}

/* Does the VG exist?  1 or 0 (vgs failed: a missing VG, or lvm2 itself
 * failing, which the next lvm2 command then reports), -1 on error.
 */
static int
vg_exists (gk_h *h, const char *vg)
{
  string_vector argv = empty_vector;
  CLEANUP_FREE char *out = NULL;
  struct lvm_report rep;
  int r;

  if (run_quiet (h, lvm_cmd_vgs (&argv, vg), &argv, &out) == -1)
    return 0;
  if (lvm_report_parse (h, out, "vg", LVM_VGS_FIELDS, &rep) == -1)
    return -1;
  r = rep.nr_rows > 0;
  lvm_report_free (&rep);
  return r;
}

/* The LVs of the VG (lv NULL) or one LV.  A missing LV is an error. */
static int
get_lvs (gk_h *h, const struct pool_def *def, const char *lv,
         struct lvm_report *rep)
{
  string_vector argv = empty_vector;
  CLEANUP_FREE char *out = NULL;

  if (run (h, lvm_cmd_lvs (&argv, vg_of (def), lv), &argv, &out) == -1)
    return -1;
  if (lvm_report_parse (h, out, "lv", LVM_LVS_FIELDS, rep) == -1)
    return -1;
  if (lv && rep->nr_rows != 1) {
    lvm_report_free (rep);
    error_errno (h, ENOENT, "no logical volume ‘%s’ in volume group ‘%s’",
                 lv, vg_of (def));
    return -1;
  }
  return 0;
}

static ssize_t
find_lv (const struct lvm_report *rep, const char *name)
{
  size_t i;

  for (i = 0; i < rep->nr_rows; ++i)
    if (strcmp (lvm_report_get (rep, i, "lv_name"), name) == 0)
      return i;
  return -1;
}

/* Pools (thin-pool, cache-pool, vdo-pool) are not volumes. */
static bool
is_pool_lv (const struct lvm_report *rep, size_t row)
{
  const char *seg = lvm_report_get (rep, row, "segtype");
  size_t len = strlen (seg);

  return len >= 5 && strcmp (seg + len - 5, "-pool") == 0;
}

static bool
is_thin_lv (const struct lvm_report *rep, size_t row)
{
  return strcmp (lvm_report_get (rep, row, "segtype"), "thin") == 0;
}

static int
check_lvm_name (gk_h *h, const char *what, const char *name)
{
  const char *why = lvm_name_invalid (name);

  if (why) {
    error_errno (h, EINVAL, "%s name ‘%s’ %s", what, name, why);
    return -1;
  }
  return 0;
}

static int
lvm_check_def (gk_h *h, const struct pool_def *def)
{
  CLEANUP_FREE char *target = NULL;
  size_t i;

  if (check_lvm_name (h, "volume group", vg_of (def)) == -1 ||
      (def->thin_pool && check_lvm_name (h, "thin pool", def->thin_pool) == -1))
    return -1;
  if (asprintf (&target, "/dev/%s", vg_of (def)) == -1) {
    perrorf (h, "lvm pool");
    return -1;
  }
  if (def->target_path && strcmp (def->target_path, target) != 0) {
    error_errno (h, EINVAL, "lvm pool ‘%s’: <target><path> must be %s, not "
                 "%s", def->name, target, def->target_path);
    return -1;
  }
  if (def->source_format && strcmp (def->source_format, "lvm2") != 0) {
    error_errno (h, EINVAL, "lvm pool ‘%s’: <source><format type='%s'>: only "
                 "lvm2 is supported", def->name, def->source_format);
    return -1;
  }
  for (i = 0; def->source_devices && def->source_devices[i]; ++i)
    if (def->source_devices[i][0] != '/') {
      error_errno (h, EINVAL, "lvm pool ‘%s’: source device ‘%s’ is not an "
                   "absolute path", def->name, def->source_devices[i]);
      return -1;
    }
  return 0;
}

/* Create the thin pool over most of the VG unless it exists.  *made is
 * set when this call created it.
 */
static int
ensure_thin_pool (gk_h *h, const struct pool_def *def, bool *made)
{
  struct lvm_report rep;
  struct vg_info vg;
  string_vector argv = empty_vector;
  uint64_t data, meta;
  ssize_t row;

  *made = false;
  if (get_lvs (h, def, NULL, &rep) == -1)
    return -1;
  row = find_lv (&rep, def->thin_pool);
  if (row >= 0) {
    bool ok = strcmp (lvm_report_get (&rep, row, "segtype"),
                      "thin-pool") == 0;

    lvm_report_free (&rep);
    if (!ok) {
      error_errno (h, EEXIST, "lvm pool ‘%s’: ‘%s/%s’ exists and is not a "
                   "thin pool", def->name, vg_of (def), def->thin_pool);
      return -1;
    }
    return 0;
  }
  lvm_report_free (&rep);
  if (get_vg (h, def, &vg) == -1)
    return -1;
  if (lvm_thin_pool_sizes (vg.free, vg.extent, &data, &meta) == -1) {
    error_errno (h, ENOSPC, "lvm pool ‘%s’: volume group ‘%s’ has only "
                 "%" PRIu64 " bytes free, too little for a thin pool",
                 def->name, vg_of (def), vg.free);
    return -1;
  }
  if (run (h, lvm_cmd_lvcreate_thin_pool (&argv, vg_of (def), def->thin_pool,
                                          data, meta), &argv, NULL) == -1)
    return -1;
  *made = true;
  return 0;
}

/* pvremove the devices this build labelled, vgremove the VG it made. */
static void
undo_build (gk_h *h, const struct pool_def *def, bool made_vg,
            const bool *made_pv, size_t n)
{
  string_vector argv = empty_vector;
  size_t i;

  gk_push_error_handler (h, NULL, NULL);
  if (made_vg)
    run (h, lvm_cmd_vgremove (&argv, vg_of (def)), &argv, NULL);
  for (i = 0; i < n; ++i)
    if (made_pv[i])
      run (h, lvm_cmd_pvremove (&argv, def->source_devices[i]), &argv, NULL);
  gk_pop_error_handler (h);
}

/* Is dev already a PV?  Sets *vg to its VG ("" for none), or NULL. */
static int
pv_vg (gk_h *h, const char *dev, char **vg)
{
  string_vector argv = empty_vector;
  CLEANUP_FREE char *out = NULL;
  struct lvm_report rep;

  *vg = NULL;
  if (run_quiet (h, lvm_cmd_pvs (&argv, dev), &argv, &out) == -1)
    return 0;                   /* not a PV (or no such device) */
  if (lvm_report_parse (h, out, "pv", LVM_PVS_FIELDS, &rep) == -1)
    return -1;
  if (rep.nr_rows == 1 && (*vg = strdup (lvm_report_get (&rep, 0,
                                                         "vg_name"))) == NULL) {
    perrorf (h, "lvm pool");
    lvm_report_free (&rep);
    return -1;
  }
  lvm_report_free (&rep);
  return 0;
}

static int
lvm_build (gk_h *h, const struct pool_def *def, unsigned flags)
{
  const char *vg = vg_of (def);
  CLEANUP_FREE bool *made_pv = NULL;
  string_vector argv = empty_vector;
  size_t i, n = 0;
  bool made_tp;
  int e;

  e = vg_exists (h, vg);
  if (e == -1)
    return -1;
  /* Built already: only the thin pool may be missing. */
  if (e == 1)
    return def->thin_pool ? ensure_thin_pool (h, def, &made_tp) : 0;

  while (def->source_devices && def->source_devices[n])
    n++;
  if (n == 0) {
    error_errno (h, EINVAL, "lvm pool ‘%s’: no <source><device> to build the "
                 "volume group ‘%s’ on", def->name, vg);
    return -1;
  }
  made_pv = calloc (n, sizeof (bool));
  if (made_pv == NULL) {
    perrorf (h, "lvm pool");
    return -1;
  }
  for (i = 0; i < n; ++i) {
    const char *dev = def->source_devices[i];
    CLEANUP_FREE char *other = NULL;

    if (pv_vg (h, dev, &other) == -1)
      goto err;
    if (other && other[0]) {
      error_errno (h, EBUSY, "lvm pool ‘%s’: %s is already in the volume "
                   "group ‘%s’", def->name, dev, other);
      goto err;
    }
    if (other)                  /* a PV of no VG: used as it is */
      continue;
    if (run_quiet (h, lvm_cmd_pvcreate (&argv, dev,
                                        flags & GK_POOL_BUILD_OVERWRITE),
                   &argv, NULL) == -1) {
      error_errno (h, gk_last_errno (h), "lvm pool ‘%s’: cannot make %s a "
                   "physical volume: %s%s", def->name, dev, gk_last_error (h),
                   flags & GK_POOL_BUILD_OVERWRITE ? ""
                   : " (pool-build --overwrite wipes what is on it)");
      goto err;
    }
    made_pv[i] = true;
  }
  if (run (h, lvm_cmd_vgcreate (&argv, vg,
                                (const char *const *) def->source_devices),
           &argv, NULL) == -1)
    goto err;
  if (def->thin_pool && ensure_thin_pool (h, def, &made_tp) == -1) {
    undo_build (h, def, true, made_pv, n);
    return -1;
  }
  return 0;

 err:
  undo_build (h, def, false, made_pv, n);
  return -1;
}

static int
need_thin_pool (gk_h *h, const struct pool_def *def)
{
  struct lvm_report rep;
  ssize_t row;
  bool ok;

  if (get_lvs (h, def, NULL, &rep) == -1)
    return -1;
  row = find_lv (&rep, def->thin_pool);
  ok = row >= 0 && strcmp (lvm_report_get (&rep, row, "segtype"),
                           "thin-pool") == 0;
  lvm_report_free (&rep);
  if (!ok) {
    error_errno (h, ENOENT, "lvm pool ‘%s’: no thin pool ‘%s’ in volume "
                 "group ‘%s’ (build the pool first)", def->name,
                 def->thin_pool, vg_of (def));
    return -1;
  }
  return 0;
}

static int
lvm_start (gk_h *h, const struct pool_def *def)
{
  string_vector argv = empty_vector;
  struct vg_info vg;

  if (get_vg (h, def, &vg) == -1)
    return -1;
  if (def->thin_pool && need_thin_pool (h, def) == -1)
    return -1;
  return run (h, lvm_cmd_vgchange (&argv, vg_of (def), true), &argv, NULL);
}

static int
lvm_stop (gk_h *h, const struct pool_def *def)
{
  string_vector argv = empty_vector;

  return run (h, lvm_cmd_vgchange (&argv, vg_of (def), false), &argv, NULL);
}

/* As libvirt: the VG's size, what is allocated and what is free; of a
 * thin pool pool: the thin pool's data size, the part in use, the rest.
 */
static int
lvm_refresh (gk_h *h, const struct pool_def *def, uint64_t *capacity,
             uint64_t *allocation, uint64_t *available)
{
  struct vg_info vg;
  struct lvm_report rep;
  ssize_t row;
  int r = -1;

  if (get_vg (h, def, &vg) == -1)
    return -1;
  if (def->thin_pool == NULL) {
    *capacity = vg.size;
    *allocation = vg.size - vg.free;
    *available = vg.free;
    return 0;
  }
  if (get_lvs (h, def, NULL, &rep) == -1)
    return -1;
  row = find_lv (&rep, def->thin_pool);
  if (row < 0) {
    error_errno (h, ENOENT, "lvm pool ‘%s’: no thin pool ‘%s’ in volume "
                 "group ‘%s’", def->name, def->thin_pool, vg_of (def));
    goto out;
  }
  if (lvm_report_get_u64 (h, &rep, row, "lv_size", capacity) == -1)
    goto out;
  *allocation = lvm_percent_of (lvm_report_get (&rep, row, "data_percent"),
                                *capacity);
  *available = *capacity - *allocation;
  r = 0;
 out:
  lvm_report_free (&rep);
  return r;
}

static int
lvm_vol_list (gk_h *h, const struct pool_def *def, char ***names_rtn)
{
  string_vector names = empty_vector;
  struct lvm_report rep;
  size_t i;

  if (get_lvs (h, def, NULL, &rep) == -1)
    return -1;
  for (i = 0; i < rep.nr_rows; ++i) {
    const char *name = lvm_report_get (&rep, i, "lv_name");
    char *copy;

    /* Thin pools are not volumes; hidden LVs ("[tp_tdata]") neither. */
    if (is_pool_lv (&rep, i) || name[0] == '[')
      continue;
    copy = strdup (name);
    if (copy == NULL || string_vector_append (&names, copy) == -1) {
      perrorf (h, "vol_list");
      free (copy);
      goto err;
    }
  }
  if (string_vector_terminate (&names) == -1) {
    perrorf (h, "vol_list");
    goto err;
  }
  lvm_report_free (&rep);
  qsort (names.ptr, names.len, sizeof (char *), compare_strings);
  *names_rtn = names.ptr;
  return 0;

 err:
  lvm_report_free (&rep);
  string_vector_free_all (&names);
  return -1;
}

static char *
lv_path (gk_h *h, const struct pool_def *def, const char *name)
{
  char *path;

  if (asprintf (&path, "/dev/%s/%s", vg_of (def), name) == -1) {
    perrorf (h, "lvm pool");
    return NULL;
  }
  return path;
}

static int
lvm_vol_info (gk_h *h, const struct pool_def *def, const char *name,
              struct vol_state *st)
{
  struct lvm_report rep;
  int r = -1;

  if (get_lvs (h, def, name, &rep) == -1)
    return -1;
  if (is_pool_lv (&rep, 0)) {
    error_errno (h, ENOENT, "‘%s’ is a thin pool, not a volume", name);
    goto out;
  }
  if (lvm_report_get_u64 (h, &rep, 0, "lv_size", &st->capacity) == -1)
    goto out;
  /* A thin LV holds only what was written; a linear LV all of it. */
  st->allocation = is_thin_lv (&rep, 0)
    ? lvm_percent_of (lvm_report_get (&rep, 0, "data_percent"), st->capacity)
    : st->capacity;
  st->name = strdup (name);
  st->format = strdup ("raw");
  if (st->name == NULL || st->format == NULL) {
    perrorf (h, "vol_info");
    goto out;
  }
  st->path = lv_path (h, def, name);
  if (st->path)
    r = 0;
 out:
  lvm_report_free (&rep);
  return r;
}

/* A new LV for vol (thin in a thin pool pool, else linear). */
static int
create_lv (gk_h *h, const struct pool_def *def, const char *name,
           uint64_t capacity)
{
  string_vector argv = empty_vector;
  struct vg_info vg;

  if (check_lvm_name (h, "volume", name) == -1)
    return -1;
  if (capacity == 0) {
    error_errno (h, EINVAL, "volume ‘%s’: an LV cannot be empty (capacity 0)",
                 name);
    return -1;
  }
  if (get_vg (h, def, &vg) == -1)
    return -1;
  if (def->thin_pool)
    return run (h, lvm_cmd_lvcreate_thin (&argv, vg_of (def), def->thin_pool,
                                          name, capacity, vg.extent),
                &argv, NULL);
  return run (h, lvm_cmd_lvcreate_linear (&argv, vg_of (def), name, capacity,
                                          vg.extent), &argv, NULL);
}

static int
remove_lv (gk_h *h, const struct pool_def *def, const char *name)
{
  string_vector argv = empty_vector;

  return run (h, lvm_cmd_lvremove (&argv, vg_of (def), name), &argv, NULL);
}

/* Undo a half-made LV; the first error stays the one reported. */
static void
remove_lv_quietly (gk_h *h, const struct pool_def *def, const char *name)
{
  CLEANUP_FREE char *err = gk_last_error (h) ? strdup (gk_last_error (h))
    : NULL;
  int errnum = gk_last_errno (h);

  gk_push_error_handler (h, NULL, NULL);
  if (remove_lv (h, def, name) == -1)
    warning (h, "could not remove the half-made volume %s/%s: %s",
             vg_of (def), name, gk_last_error (h));
  gk_pop_error_handler (h);
  if (err) {
    gk_push_error_handler (h, NULL, NULL);
    error_errno (h, errnum, "%s", err);
    gk_pop_error_handler (h);
  }
}

static int
lvm_vol_create (gk_h *h, const struct pool_def *def,
                const struct vol_def *vol)
{
  if (vol->format && strcmp (vol->format, "raw") != 0) {
    error_errno (h, ENOTSUP, "volume ‘%s’: lvm volumes are raw, not %s",
                 vol->name, vol->format);
    return -1;
  }
  if (vol->backing_path) {
    error_errno (h, ENOTSUP, "volume ‘%s’: lvm volumes cannot have a backing "
                 "store (clone inside a thin pool pool instead)", vol->name);
    return -1;
  }
  /* <allocation> is not used: a linear LV is always fully allocated, a
   * thin LV never in advance.
   */
  return create_lv (h, def, vol->name, vol->capacity);
}

static int
lvm_vol_delete (gk_h *h, const struct pool_def *def, const char *name)
{
  return remove_lv (h, def, name);
}

static int
lvm_vol_rename (gk_h *h, const struct pool_def *def, const char *old_name,
                const char *new_name)
{
  string_vector argv = empty_vector;

  if (check_lvm_name (h, "volume", new_name) == -1)
    return -1;
  return run (h, lvm_cmd_lvrename (&argv, vg_of (def), old_name, new_name),
              &argv, NULL);
}

static int
lvm_vol_resize (gk_h *h, const struct pool_def *def, const char *name,
                uint64_t capacity, unsigned flags)
{
  string_vector argv = empty_vector;
  struct lvm_report rep;
  struct vg_info vg;
  uint64_t size;
  int r;

  if (get_vg (h, def, &vg) == -1 || get_lvs (h, def, name, &rep) == -1)
    return -1;
  r = lvm_report_get_u64 (h, &rep, 0, "lv_size", &size);
  lvm_report_free (&rep);
  if (r == -1)
    return -1;
  if (capacity == 0) {
    error_errno (h, EINVAL, "volume ‘%s’: an LV cannot be empty (capacity 0)",
                 name);
    return -1;
  }
  /* lvm2 refuses a resize to the current size: already done. */
  if (lvm_round_up (capacity, vg.extent) == size)
    return 0;
  return run (h, lvm_cmd_lvresize (&argv, vg_of (def), name, capacity,
                                   vg.extent,
                                   lvm_round_up (capacity, vg.extent) < size),
              &argv, NULL);
}

static int
open_lv (gk_h *h, const char *path, int flags, uint64_t *size)
{
  int fd = open (path, flags | O_CLOEXEC);

  if (fd == -1) {
    perrorf (h, "open: %s (is the pool started?)", path);
    return -1;
  }
  if (ioctl (fd, BLKGETSIZE64, size) == -1) {
    perrorf (h, "BLKGETSIZE64: %s", path);
    close (fd);
    return -1;
  }
  return fd;
}

/* Make [off, off + len) of a block device read as zeros: BLKZEROOUT for
 * the 512-byte-aligned part (the kernel offloads it where it can), plain
 * writes for the unaligned head.
 */
static int
zero_range (gk_h *h, int fd, const char *path, uint64_t off, uint64_t len)
{
  static const char zeros[512];
  uint64_t head = off % 512 ? 512 - off % 512 : 0;
  uint64_t range[2];

  if (head > len)
    head = len;
  if (head && pwrite (fd, zeros, head, off) != (ssize_t) head) {
    perrorf (h, "write: %s", path);
    return -1;
  }
  off += head;
  len -= head;
  range[0] = off;
  range[1] = len - len % 512;
  if (range[1] && ioctl (fd, BLKZEROOUT, range) == -1) {
    perrorf (h, "BLKZEROOUT: %s", path);
    return -1;
  }
  if (len % 512 &&
      pwrite (fd, zeros, len % 512, off + range[1]) != (ssize_t) (len % 512)) {
    perrorf (h, "write: %s", path);
    return -1;
  }
  return 0;
}

/* A thin LV gives its chunks back to the thin pool and then reads as
 * zeros: a discard unmaps whole chunks, a partial last chunk is zeroed.
 * *unmapped is false (and nothing done) for other LVs, or when the thin
 * pool ignores discards.
 */
static int
unmap_thin (gk_h *h, const struct pool_def *def, const char *name, int fd,
            const char *path, uint64_t size, bool *unmapped)
{
  struct lvm_report rep, prep;
  uint64_t chunk = 0, range[2];
  bool thin;
  ssize_t row;

  *unmapped = false;
  if (get_lvs (h, def, name, &rep) == -1)
    return -1;
  thin = is_thin_lv (&rep, 0);
  if (thin && get_lvs (h, def, NULL, &prep) == 0) {
    row = find_lv (&prep, lvm_report_get (&rep, 0, "pool_lv"));
    if (row >= 0 &&
        lvm_report_get_u64 (h, &prep, row, "chunk_size", &chunk) == -1)
      chunk = 0;
    lvm_report_free (&prep);
  }
  lvm_report_free (&rep);
  if (!thin || chunk == 0)
    return 0;
  range[0] = 0;
  range[1] = size - size % chunk;
  if (range[1] > 0 && ioctl (fd, BLKDISCARD, range) == -1) {
    debug (h, "%s: BLKDISCARD: %m: zeroing instead", path);
    return 0;
  }
  *unmapped = true;
  return zero_range (h, fd, path, range[1], size - range[1]);
}

static int
lvm_vol_wipe (gk_h *h, const struct pool_def *def, const char *name)
{
  CLEANUP_FREE char *path = lv_path (h, def, name);
  uint64_t size;
  bool unmapped;
  int fd, r;

  if (path == NULL || (fd = open_lv (h, path, O_WRONLY, &size)) == -1)
    return -1;
  r = unmap_thin (h, def, name, fd, path, size, &unmapped);
  if (r == 0 && !unmapped)
    r = zero_range (h, fd, path, 0, size);
  if (r == 0 && fsync (fd) == -1) {
    perrorf (h, "fsync: %s", path);
    r = -1;
  }
  close (fd);
  return r;
}

/* Size of what an fd holds: a file's length, a block device's size. */
static int
fd_size (gk_h *h, int fd, const char *what, uint64_t *size)
{
  struct stat sb;

  if (fstat (fd, &sb) == -1) {
    perrorf (h, "stat: %s", what);
    return -1;
  }
  if (S_ISBLK (sb.st_mode))
    return ioctl (fd, BLKGETSIZE64, size) == -1
      ? (perrorf (h, "BLKGETSIZE64: %s", what), -1) : 0;
  *size = sb.st_size;
  return 0;
}

static int
lvm_vol_upload (gk_h *h, const struct pool_def *def, const char *name,
                int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE char *path = lv_path (h, def, name);
  uint64_t size, lvsize;
  bool unmapped;
  int out, r = -1;

  if (path == NULL || fd_size (h, fd, "upload", &size) == -1)
    return -1;
  out = open_lv (h, path, O_WRONLY, &lvsize);
  if (out == -1)
    return -1;
  /* Checked before anything is written: the volume stays as it was. */
  if (size > lvsize) {
    error_errno (h, EFBIG, "upload: the file (%" PRIu64 " bytes) is larger "
                 "than volume ‘%s’ (%" PRIu64 " bytes)", size, name, lvsize);
    goto out;
  }
  /* The volume's content becomes the file's, the rest reads as zeros.  A
   * thin LV is unmapped first and then only the file's data written; a
   * linear LV is written in full.
   */
  if (unmap_thin (h, def, name, out, path, lvsize, &unmapped) == -1)
    goto out;
  if (sparse_copy (h, fd, out, size,
                   unmapped ? SPARSE_DST_ZEROED : SPARSE_DST_BLOCK,
                   progress, opaque) == -1)
    goto out;
  if (!unmapped && zero_range (h, out, path, size, lvsize - size) == -1)
    goto out;
  if (fsync (out) == -1) {
    perrorf (h, "fsync: %s", path);
    goto out;
  }
  r = 0;
 out:
  close (out);
  return r;
}

static int
lvm_vol_download (gk_h *h, const struct pool_def *def, const char *name,
                  int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE char *path = lv_path (h, def, name);
  uint64_t size;
  int in, r;

  if (path == NULL || (in = open_lv (h, path, O_RDONLY, &size)) == -1)
    return -1;
  /* A device has no holes to find: zero blocks become the file's holes. */
  r = sparse_copy (h, in, fd, size, SPARSE_DST_FILE, progress, opaque);
  close (in);
  return r;
}

/* Is src a thin LV of this pool's thin pool?  1, 0, -1. */
static int
in_same_thin_pool (gk_h *h, const struct pool_def *def,
                   const struct pool_def *src_def, const char *src)
{
  struct lvm_report rep;
  int r;

  if (def->thin_pool == NULL || strcmp (src_def->type, "lvm") != 0 ||
      strcmp (vg_of (def), vg_of (src_def)) != 0)
    return 0;
  if (get_lvs (h, def, src, &rep) == -1)
    return -1;
  r = is_thin_lv (&rep, 0) &&
    strcmp (lvm_report_get (&rep, 0, "pool_lv"), def->thin_pool) == 0;
  lvm_report_free (&rep);
  return r;
}

/* Copy src (a local file or device) into the new LV dst. */
static int
copy_into (gk_h *h, const struct pool_def *def, const char *dst,
           const struct vol_state *src)
{
  CLEANUP_FREE char *path = lv_path (h, def, dst);
  struct stat sb;
  uint64_t size, lvsize;
  bool unmapped;
  int in = -1, out = -1, r = -1;

  if (path == NULL)
    return -1;
  /* An image file is converted: the guest's disk, not the container. */
  if (src->format && strcmp (src->format, "raw") != 0) {
    const char *argv[] = { "qemu-img", "convert", "-q", "-n",
                           "-f", src->format, "-O", "raw",
                           def->thin_pool ? "--target-is-zero" : src->path,
                           def->thin_pool ? src->path : path,
                           def->thin_pool ? path : NULL, NULL };

    if (gk_int_run (h, argv, NULL) == -1)
      return -1;
    if (def->thin_pool)
      return 0;
    /* The tail past the virtual size (extent rounding) reads as zeros. */
    out = open_lv (h, path, O_WRONLY, &lvsize);
    if (out == -1)
      return -1;
    if (lvsize > src->capacity &&
        zero_range (h, out, path, src->capacity, lvsize - src->capacity) == -1)
      goto out;
    if (fsync (out) == -1) {
      perrorf (h, "fsync: %s", path);
      goto out;
    }
    r = 0;
    goto out;
  }
  in = open (src->path, O_RDONLY | O_CLOEXEC);
  if (in == -1 || fstat (in, &sb) == -1) {
    perrorf (h, "open: %s", src->path);
    goto out;
  }
  out = open_lv (h, path, O_WRONLY, &lvsize);
  if (out == -1)
    goto out;
  size = S_ISREG (sb.st_mode) && (uint64_t) sb.st_size < src->capacity
    ? (uint64_t) sb.st_size : src->capacity;
  if (size > lvsize)
    size = lvsize;
  /* A new thin LV reads as zeros (the thin pool zeroes new chunks): only
   * data is written.  A new linear LV holds whatever the disk held: all
   * of it is written, and the tail past the source zeroed.
   */
  unmapped = def->thin_pool != NULL;
  debug (h, "clone %s: copy of %" PRIu64 " bytes (%s)", dst, size,
         unmapped ? "sparse, thin" : "full, linear");
  if (sparse_copy (h, in, out, size,
                   unmapped ? SPARSE_DST_ZEROED : SPARSE_DST_BLOCK,
                   NULL, NULL) == -1)
    goto out;
  if (!unmapped && zero_range (h, out, path, size, lvsize - size) == -1)
    goto out;
  if (fsync (out) == -1) {
    perrorf (h, "fsync: %s", path);
    goto out;
  }
  r = 0;
 out:
  if (in >= 0)
    close (in);
  if (out >= 0)
    close (out);
  return r;
}

static int
lvm_vol_clone (gk_h *h, const struct pool_def *def, const char *dst,
               const struct pool_def *src_def, const struct vol_state *src,
               unsigned flags)
{
  string_vector argv = empty_vector;
  int same;

  if (flags & GK_VOL_CLONE_REFLINK) {
    error_errno (h, ENOTSUP, "clone %s: lvm pools have no reflink copies "
                 "(a clone inside a thin pool is a thin snapshot)", dst);
    return -1;
  }
  if (check_lvm_name (h, "volume", dst) == -1)
    return -1;
  same = in_same_thin_pool (h, def, src_def, src->name);
  if (same == -1)
    return -1;
  if (same)
    return run (h, lvm_cmd_lvcreate_thin_snapshot (&argv, vg_of (def),
                                                   src->name, dst),
                &argv, NULL);
  if (flags & GK_VOL_CLONE_LINKED) {
    error_errno (h, ENOTSUP, "clone %s: a linked clone into lvm pool ‘%s’ "
                 "needs the source in the pool's thin pool", dst, def->name);
    return -1;
  }
  /* As the dir backend: a source with a local path (dir, lvm) is read
   * here; iscsi and rbd volumes have none.
   */
  if (src->path == NULL || src->path[0] != '/') {
    error_errno (h, ENOTSUP, "cloning a volume of a %s pool into an lvm "
                 "pool is not supported", src_def->type);
    return -1;
  }
  if (create_lv (h, def, dst, src->capacity) == -1)
    return -1;
  if (copy_into (h, def, dst, src) == -1) {
    remove_lv_quietly (h, def, dst);
    return -1;
  }
  return 0;
}

static int
lvm_delete_pool (gk_h *h, const struct pool_def *def)
{
  CLEANUP_FREE_STRING_LIST char **vols = NULL;
  string_vector argv = empty_vector;
  struct vg_info vg;
  size_t i, n;

  if (get_vg (h, def, &vg) == -1 || lvm_vol_list (h, def, &vols) == -1)
    return -1;
  /* Unlike libvirt (vgremove -f), volumes are never deleted with it. */
  for (n = 0; vols[n]; ++n)
    ;
  if (n > 0) {
    error_errno (h, EBUSY, "lvm pool ‘%s’ still has %zu volume%s (%s%s): "
                 "delete them first", def->name, n, n == 1 ? "" : "s",
                 vols[0], n > 1 ? ", ..." : "");
    return -1;
  }
  if (run (h, lvm_cmd_vgremove (&argv, vg_of (def)), &argv, NULL) == -1)
    return -1;
  for (i = 0; def->source_devices && def->source_devices[i]; ++i)
    if (run (h, lvm_cmd_pvremove (&argv, def->source_devices[i]),
             &argv, NULL) == -1)
      return -1;
  return 0;
}

const struct pool_backend lvm_backend = {
  .size = sizeof (struct pool_backend),
  .type = "lvm",
  .xml_type = "logical",
  .check_def = lvm_check_def,
  .build = lvm_build,
  .start = lvm_start,
  .stop = lvm_stop,
  .refresh = lvm_refresh,
  .delete_pool = lvm_delete_pool,
  .vol_list = lvm_vol_list,
  .vol_info = lvm_vol_info,
  .vol_create = lvm_vol_create,
  .vol_delete = lvm_vol_delete,
  .vol_resize = lvm_vol_resize,
  .vol_clone = lvm_vol_clone,
  .vol_wipe = lvm_vol_wipe,
  .vol_upload = lvm_vol_upload,
  .vol_download = lvm_vol_download,
  .vol_rename = lvm_vol_rename,
};
