/* libguestkit: gk_df by the native engine, with the appliance as the
 * fallback.
 *
 * The rows must be those the appliance gives (df.c), in its order and
 * with its names, so this walks the guest as libguestfs's
 * list-filesystems does:
 *
 *   1. whole devices that have no partitions (/dev/sda, ...: the drives
 *      in the order they were added);
 *   2. the partitions that can hold a filesystem (not MBR extended
 *      partitions, not GPT "Microsoft reserved" or "Windows snapshot"),
 *      disk by disk;
 *   3. the logical volumes, sorted by VG then LV name (lvm's own order);
 *
 * naming each one as blkid does (fs.c), leaving out LVM PVs, and adding
 * after each btrfs filesystem its subvolumes but the default one.
 *
 * Anything the native engine is not sure about at the level of the guest
 * (a drive it cannot open natively, a partition table or LVM metadata it
 * does not understand, a signature it cannot name) makes the whole call
 * an appliance call, since the rows themselves would be in doubt.  A
 * filesystem whose usage it is not sure about is asked of the appliance
 * alone: the rows stay native, and the appliance boots only then.
 * With -v (verbose), every fallback says why.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>

#include "internal.h"
#include "native/reader.h"
#include "native/block.h"
#include "native/parttable.h"
#include "native/lvm2.h"
#include "native/fs.h"

/* A device that may hold a filesystem. */
struct candidate {
  char *name;                      /* /dev/sda1, /dev/VG/LV */
  const struct gk_reader *r;
};
DEFINE_VECTOR_TYPE (candidate_vector, struct candidate);

/* A row being built: the native statvfs, or "ask the appliance". */
struct row {
  char *mountable;                 /* /dev/sda1, btrfsvol:/dev/sda1/sub */
  const char *fstype;              /* static */
  const char *skip_reason;         /* static, or NULL */
  struct gk_statvfs st;
  char *appliance_why;             /* not NULL: statvfs by the appliance */
};
DEFINE_VECTOR_TYPE (row_vector, struct row);

struct native_guest {
  struct gk_reader *disks;
  size_t ndisks;                   /* opened so far */
  struct gk_partition **parts;
  size_t *nparts;
  struct gk_lv *lvs;
  size_t nlvs;
  candidate_vector cands;
  row_vector rows;
};

static void
free_guest (struct native_guest *g)
{
  size_t i;

  for (i = 0; i < g->cands.len; ++i)
    free (g->cands.ptr[i].name);
  free (g->cands.ptr);
  for (i = 0; i < g->rows.len; ++i) {
    free (g->rows.ptr[i].mountable);
    free (g->rows.ptr[i].appliance_why);
  }
  free (g->rows.ptr);
  gk_native_free_lvs (g->lvs, g->nlvs);
  if (g->parts)
    for (i = 0; i < g->ndisks; ++i)
      gk_native_free_partitions (g->parts[i], g->nparts[i]);
  free (g->parts);
  free (g->nparts);
  for (i = 0; i < g->ndisks; ++i)
    gk_reader_close (&g->disks[i]);
  free (g->disks);
}

/* The appliance's name for drive index: sda, ..., sdz, sdaa, ... */
static void
drive_name (size_t index, char *buf)
{
  char tmp[16];
  size_t n = 0, i;

  for (;;) {
    tmp[n++] = 'a' + index % 26;
    if (index < 26)
      break;
    index = index / 26 - 1;
  }
  buf[0] = 's';
  buf[1] = 'd';
  for (i = 0; i < n; ++i)
    buf[2 + i] = tmp[n - 1 - i];
  buf[2 + n] = '\0';
}

static int
add_candidate (gk_h *h, struct native_guest *g, const struct gk_reader *r,
               const char *fs, ...)
  __attribute__ ((format (printf, 4, 5)));

static int
add_candidate (gk_h *h, struct native_guest *g, const struct gk_reader *r,
               const char *fs, ...)
{
  struct candidate c = { .r = r };
  va_list args;
  int ret;

  va_start (args, fs);
  ret = vasprintf (&c.name, fs, args);
  va_end (args);
  if (ret == -1 || candidate_vector_append (&g->cands, c) == -1) {
    if (ret != -1)
      free (c.name);
    perrorf (h, "df");
    return -1;
  }
  return 0;
}

static int
add_row (gk_h *h, struct native_guest *g, char *mountable, const char *fstype,
         const char *skip_reason, const struct gk_statvfs *st,
         char *appliance_why)
{
  struct row row = {
    .mountable = mountable, .fstype = fstype, .skip_reason = skip_reason,
    .appliance_why = appliance_why,
  };

  if (st)
    row.st = *st;
  if (mountable == NULL || row_vector_append (&g->rows, row) == -1) {
    perrorf (h, "df");
    free (mountable);
    free (appliance_why);
    return -1;
  }
  return 0;
}

/* GPT partition types libguestfs never looks into. */
static bool
holds_no_filesystem (const struct gk_partition *p)
{
  if (p->extended)
    return true;
  return p->gpt &&
    (strcmp (p->type_guid, "E3C9E316-0B5C-4DB8-817D-F92DF00215AE") == 0 ||
     strcmp (p->type_guid, "CADDEBF1-4400-4DE8-B103-12117DCF3CCF") == 0);
}

static int
compare_lvs (const void *a, const void *b)
{
  const struct gk_lv *x = a, *y = b;
  int r = strcmp (x->vg_name, y->vg_name);

  return r != 0 ? r : strcmp (x->lv_name, y->lv_name);
}

/* Types that are there but that no read-only mount can show: the
 * appliance's mount fails and virt-df leaves them out.
 */
static const char *
unmountable (const char *type)
{
  if (strcmp (type, "swap") == 0)
    return "swap space is not a filesystem";
  if (strcmp (type, "crypto_LUKS") == 0)
    return "LUKS encrypted (virt-df does not open it)";
  if (strcmp (type, "BitLocker") == 0)
    return "BitLocker encrypted (virt-df does not open it)";
  if (strcmp (type, "jbd") == 0)
    return "an external ext3/4 journal is not a filesystem";
  if (strcmp (type, "swsuspend") == 0)
    return "a hibernation image is not a filesystem";
  return NULL;
}

/* One candidate: its rows.  Returns 0, -1 or GK_NATIVE_UNSURE. */
static int
do_candidate (gk_h *h, struct native_guest *g, const struct candidate *c,
              const struct gk_reader ***pvs, size_t *npvs, char **why_rtn)
{
  const char *type;
  const char *reason;
  struct gk_statvfs st;
  char *why = NULL;
  int r;

  r = gk_native_fs_probe (h, c->r, &type, why_rtn);
  if (r != 0)
    return r;
  debug (h, "native: %s: %s", c->name, type[0] ? type : "(nothing found)");

  if (strcmp (type, "LVM2_member") == 0) {
    const struct gk_reader **p = realloc (*pvs, (*npvs + 1) * sizeof **pvs);

    if (p == NULL) {
      perrorf (h, "df");
      return -1;
    }
    p[(*npvs)++] = c->r;
    *pvs = p;
    return 0;
  }
  if (strcmp (type, "linux_raid_member") == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: an md RAID member (md "
                                 "devices are not read natively)", c->name);
  if (strcmp (type, "") == 0)
    return add_row (h, g, strdup (c->name), "unknown",
                    "unknown content (no filesystem found)", NULL, NULL);
  if ((reason = unmountable (type)) != NULL)
    return add_row (h, g, strdup (c->name), type, reason, NULL, NULL);

  r = gk_native_fs_statvfs (h, c->r, type, &st, &why);
  if (r == -1)
    return -1;
  if (r == GK_NATIVE_UNSURE && why == NULL && (why = strdup ("?")) == NULL) {
    perrorf (h, "df");
    return -1;
  }
  if (add_row (h, g, strdup (c->name), type, NULL, &st, why) == -1)
    return -1;

  if (strcmp (type, "btrfs") == 0) {
    CLEANUP_FREE_STRING_LIST char **paths = NULL;
    size_t i;

    r = gk_native_btrfs_subvolumes (h, c->r, &paths, why_rtn);
    if (r != 0)
      return r;
    /* A subvolume shows the usage of its whole filesystem. */
    size_t wi = g->rows.len - 1;

    for (i = 0; paths[i] != NULL; ++i) {
      char *m, *w = NULL;
      const struct row *whole = &g->rows.ptr[wi];

      if (asprintf (&m, "btrfsvol:%s/%s", c->name, paths[i]) == -1)
        m = NULL;
      if (whole->appliance_why && (w = strdup (whole->appliance_why)) == NULL) {
        perrorf (h, "df");
        free (m);
        return -1;
      }
      if (add_row (h, g, m, "btrfs", NULL, &whole->st, w) == -1)
        return -1;
    }
  }
  return 0;
}

/* Open the guest and make its rows.  0, -1 or GK_NATIVE_UNSURE. */
static int
native_rows (gk_h *h, struct native_guest *g, char **why_rtn)
{
  CLEANUP_FREE const struct gk_reader **pvs = NULL;
  size_t npvs = 0, i, j;
  char name[32];
  int r;

  g->disks = calloc (h->drives.len, sizeof *g->disks);
  g->parts = calloc (h->drives.len, sizeof *g->parts);
  g->nparts = calloc (h->drives.len, sizeof *g->nparts);
  if (h->drives.len > 0 &&
      (g->disks == NULL || g->parts == NULL || g->nparts == NULL)) {
    perrorf (h, "df");
    return -1;
  }

  for (i = 0; i < h->drives.len; ++i) {
    const struct drive *drv = &h->drives.ptr[i];

    if (strcmp (drv->protocol, "file") != 0)
      return gk_int_native_unsure (h, why_rtn, "%s: %s drives are read by "
                                   "the appliance", drv->path, drv->protocol);
    r = gk_reader_open_image (h, &g->disks[i], drv->path, drv->format,
                              why_rtn);
    if (r != 0)
      return r;
    g->ndisks++;
  }

  /* Whole devices with no partitions, then the partitions. */
  for (i = 0; i < g->ndisks; ++i) {
    r = gk_native_partitions_flags (h, &g->disks[i],
                                    h->drives.ptr[i].blocksize,
                                    GK_NATIVE_PARTS_AS_LINUX, &g->parts[i],
                                    &g->nparts[i], why_rtn);
    if (r != 0)
      return r;
    drive_name (i, name);
    if (g->nparts[i] == 0 &&
        add_candidate (h, g, &g->disks[i], "/dev/%s", name) == -1)
      return -1;
  }
  for (i = 0; i < g->ndisks; ++i) {
    drive_name (i, name);
    for (j = 0; j < g->nparts[i]; ++j) {
      const struct gk_partition *p = &g->parts[i][j];

      if (!holds_no_filesystem (p) &&
          add_candidate (h, g, &p->reader, "/dev/%s%d", name, p->number) == -1)
        return -1;
    }
  }
  for (i = 0; i < g->cands.len; ++i) {
    r = do_candidate (h, g, &g->cands.ptr[i], &pvs, &npvs, why_rtn);
    if (r != 0)
      return r;
  }

  /* The logical volumes on the PVs found above. */
  if (npvs > 0) {
    size_t first = g->cands.len;

    r = gk_native_lvm (h, pvs, npvs, &g->lvs, &g->nlvs, why_rtn);
    if (r != 0)
      return r;
    for (i = 0; i < g->nlvs; ++i)
      if (g->lvs[i].unsure)
        return gk_int_native_unsure (h, why_rtn, "%s: %s", g->lvs[i].name,
                                     g->lvs[i].why ? g->lvs[i].why : "?");
    if (g->nlvs > 1)            /* qsort (NULL, 0, ...) is undefined */
      qsort (g->lvs, g->nlvs, sizeof *g->lvs, compare_lvs);
    for (i = 0; i < g->nlvs; ++i)
      if (add_candidate (h, g, &g->lvs[i].reader, "%s", g->lvs[i].name) == -1)
        return -1;
    for (i = first; i < g->cands.len; ++i) {
      r = do_candidate (h, g, &g->cands.ptr[i], &pvs, &npvs, why_rtn);
      if (r != 0)
        return r;
    }
  }
  return 0;
}

static void
ignore_error (gk_h *h, void *opaque, const char *msg)
{
}

/* The usage of one row by the appliance, as df.c gets it. */
static int
appliance_row (gk_h *h, struct row *row, struct gk_fs_usage *u)
{
  bool failed = false;

  if (gk_launch (h) == -1)
    return -1;
  gk_push_error_handler (h, ignore_error, NULL);
  if (gk_mount_ro (h, row->mountable, "/") == -1)
    failed = true;
  else {
    if (gk_statvfs (h, "/", &u->st) == -1)
      failed = true;
    if (failed)
      u->skip_reason = strdup (h->last_error);
    gk_umount_all (h);
  }
  if (failed && u->skip_reason == NULL)
    u->skip_reason = strdup (h->last_error);
  gk_pop_error_handler (h);
  if (failed && u->skip_reason == NULL) {
    perrorf (h, "df");
    return -1;
  }
  return 0;
}

int
gk_int_df_native (gk_h *h, struct gk_fs_usage **usage_rtn, size_t *n_rtn,
                  char **why_rtn)
{
  struct native_guest g = { 0 };
  struct gk_fs_usage *usage = NULL;
  size_t i;
  int r;

  r = native_rows (h, &g, why_rtn);
  if (r != 0)
    goto out;

  usage = calloc (g.rows.len + 1, sizeof *usage);
  if (usage == NULL) {
    perrorf (h, "df");
    r = -1;
    goto out;
  }
  for (i = 0; i < g.rows.len; ++i) {
    struct row *row = &g.rows.ptr[i];
    struct gk_fs_usage *u = &usage[i];

    u->device = strdup (row->mountable);
    u->fstype = strdup (row->fstype);
    if (u->device == NULL || u->fstype == NULL ||
        (row->skip_reason &&
         (u->skip_reason = strdup (row->skip_reason)) == NULL)) {
      perrorf (h, "df");
      r = -1;
      goto out;
    }
    if (row->appliance_why == NULL) {
      u->st = row->st;
      continue;
    }
    if (h->engine == GK_ENGINE_NATIVE) {
      error (h, "%s: the native engine is not sure: %s", row->mountable,
             row->appliance_why);
      r = -1;
      goto out;
    }
    debug (h, "df: %s: usage from the appliance: %s", row->mountable,
           row->appliance_why);
    if (appliance_row (h, row, u) == -1) {
      r = -1;
      goto out;
    }
  }
  *usage_rtn = usage;
  *n_rtn = g.rows.len;
  usage = NULL;

 out:
  if (usage)
    gk_free_fs_usage (usage, g.rows.len);
  free_guest (&g);
  return r;
}
