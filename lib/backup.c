/* libguestkit: full and incremental backups, restore, verify.
 *
 * A backup directory holds a chain (guestkit(3), "BACKUPS"):
 *
 *   DIR/.lock                       one run at a time (flock)
 *   DIR/0001-20261207T010203Z-full/ manifest.json, vda.qcow2, vda.sums
 *   DIR/0002-20261207T020304Z-inc/  manifest.json, vda.qcow2 (backing
 *                                   ../0001-.../vda.qcow2), vda.sums
 *
 * A run writes into DIR/.gk-tmp-ID/ and renames it to DIR/ID only when
 * every disk is written, flushed and checked, with the manifest last: a
 * run that is killed leaves the chain as it was (the next run removes
 * the leftover).  The source's checkpoint moves the same way: the new
 * one is made before reading, the previous one is deleted only after the
 * rename; on failure the new one is deleted.
 *
 * Changed blocks come from the source's checkpoint (qcow2 dirty bitmap,
 * rbd snapshot, libvirt checkpoint) when the previous backup made one,
 * else from comparing per-block checksums with the previous backup.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "internal.h"
#include "disk-internal.h"
#include "backup-internal.h"
#include "cleanups.h"

#define MANIFEST "manifest.json"
#define TMP_PREFIX ".gk-tmp-"
#define GRANULE (64 * 1024)     /* zero detection and writes */

enum mode { MODE_FULL, MODE_INC_CHECKPOINT, MODE_INC_SUMS };

/* Ranges, sorted and merged. */
struct range { uint64_t off, len; };
DEFINE_VECTOR_TYPE (range_vector, struct range);

static int
range_add (range_vector *v, uint64_t off, uint64_t len)
{
  if (len == 0)
    return 0;
  if (v->len > 0) {
    struct range *last = &v->ptr[v->len - 1];

    if (last->off + last->len == off) {
      last->len += len;
      return 0;
    }
  }
  return range_vector_append (v, (struct range) { off, len });
}

/* One disk being backed up. */
struct job {
  gk_h *h;
  gk_disk *src;
  gk_disk *out;
  enum mode mode;
  struct gk_sums sums;          /* the new ones */
  struct gk_sums parent_sums;   /* MODE_INC_*: the previous backup's */
  range_vector changed;         /* MODE_INC_CHECKPOINT */
  size_t changed_i;             /* first changed range not yet passed */
  uint64_t aligned_end;         /* written up to here (granules) */
  range_vector written;         /* what this backup's image holds */
  uint64_t written_bytes;
  /* Progress over several read calls. */
  gk_progress_cb progress;
  void *progress_opaque;
  uint64_t progress_base, progress_total;
};

static void
job_free (struct job *j)
{
  gk_int_sums_free (&j->sums);
  gk_int_sums_free (&j->parent_sums);
  range_vector_reset (&j->changed);
  range_vector_reset (&j->written);
}

/* Write [off, off+len) of a block: non-zero granules as data, zero ones
 * as zeros (when zeros must be written: over a backing file), coalesced.
 */
static int
write_piece (struct job *j, const unsigned char *blk, uint64_t blk_off,
             uint64_t off, uint64_t len, bool write_zeros)
{
  uint64_t end = off + len;

  while (off < end) {
    uint64_t run = off;
    bool zero;
    uint64_t g_end = (off / GRANULE + 1) * GRANULE;

    if (g_end > end)
      g_end = end;
    zero = blk == NULL || gk_int_is_zero (blk + (off - blk_off), g_end - off);
    run = g_end;
    /* Extend the run while the kind stays the same. */
    while (run < end) {
      uint64_t n_end = run + GRANULE < end ? run + GRANULE : end;
      bool z = blk == NULL || gk_int_is_zero (blk + (run - blk_off),
                                              n_end - run);
      if (z != zero)
        break;
      run = n_end;
    }
    if (!zero) {
      if (gk_disk_pwrite (j->out, blk + (off - blk_off), run - off, off) == -1)
        return -1;
      j->written_bytes += run - off;
      if (range_add (&j->written, off, run - off) == -1) {
        perrorf (j->h, "realloc");
        return -1;
      }
    }
    else if (write_zeros) {
      if (gk_disk_zero (j->out, off, run - off) == -1)
        return -1;
      if (range_add (&j->written, off, run - off) == -1) {
        perrorf (j->h, "realloc");
        return -1;
      }
    }
    off = run;
  }
  return 0;
}

static int
block_done (void *opaque, uint64_t block, uint64_t offset, size_t len,
            const unsigned char *data, const unsigned char *sum)
{
  struct job *j = opaque;

  memcpy (j->sums.sum + block * GK_SUM_LEN, sum, GK_SUM_LEN);
  switch (j->mode) {
  case MODE_FULL:
    if (data == NULL)
      return 0;                 /* a new image reads as zeros */
    return write_piece (j, data, offset, offset, len, false);

  case MODE_INC_SUMS:
    if (memcmp (sum, j->parent_sums.sum + block * GK_SUM_LEN,
                GK_SUM_LEN) == 0)
      return 0;
    return write_piece (j, data, offset, offset, len, true);

  case MODE_INC_CHECKPOINT: {
    uint64_t end = offset + len;

    /* The changed ranges inside this block. */
    while (j->changed_i < j->changed.len) {
      struct range *r = &j->changed.ptr[j->changed_i];
      uint64_t a = r->off > offset ? r->off : offset;
      uint64_t b = r->off + r->len < end ? r->off + r->len : end;

      if (r->off >= end)
        break;
      /* Whole 64 KiB granules (the qcow2 writer's subclusters): the rest of
       * a granule is the disk's current data, in the block too.
       */
      a = a / GRANULE * GRANULE;
      b = (b + GRANULE - 1) / GRANULE * GRANULE;
      if (b > end)
        b = end;
      if (a < j->aligned_end)
        a = j->aligned_end;
      if (a < b) {
        if (write_piece (j, data, offset, a, b - a, true) == -1)
          return -1;
        j->aligned_end = b;
      }
      if (r->off + r->len > end)
        break;                  /* goes on in the next block */
      j->changed_i++;
    }
    return 0;
  }
  }
  return 0;
}

static int
job_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct job *j = opaque;

  if (j->progress)
    return j->progress (j->progress_opaque, j->progress_base + done,
                        j->progress_total);
  return 0;
}

/* Read [off, off+len) (block-aligned) through the block assembler. */
static int
read_blocks (struct job *j, uint64_t off, uint64_t len)
{
  struct gk_blocks b;
  int r;

  if (gk_int_blocks_init (j->h, &b, gk_disk_get_size (j->src), off,
                          block_done, j) == -1)
    return -1;
  gk_disk_set_progress_callback (j->src, job_progress, j);
  r = gk_disk_read_extents (j->src, off, len, NULL, gk_int_blocks_feed, &b);
  gk_disk_set_progress_callback (j->src, NULL, NULL);
  j->progress_base += len;
  gk_int_blocks_free (&b);
  return r == 0 ? 0 : -1;
}

static int
changed_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct job *j = opaque;

  if (range_add (&j->changed, offset, length) == -1) {
    perrorf (j->h, "realloc");
    return -1;
  }
  return 0;
}

/* Copy the disk into j->out according to j->mode. */
static int
job_run (struct job *j, const char *since)
{
  uint64_t size = gk_disk_get_size (j->src);

  if (gk_int_sums_init (j->h, &j->sums, size) == -1)
    return -1;
  if (j->mode != MODE_INC_CHECKPOINT) {
    j->progress_total = size;
    return read_blocks (j, 0, size);
  }

  /* Only the blocks the changed ranges touch are read; the others keep
   * the previous backup's checksums.
   */
  memcpy (j->sums.sum, j->parent_sums.sum, j->sums.nr_blocks * GK_SUM_LEN);
  if (gk_disk_changed_extents (j->src, since, 0, size, changed_cb, j) == -1)
    return -1;
  {
    range_vector blocks = empty_vector;
    size_t i;
    int r = 0;

    for (i = 0; i < j->changed.len; ++i) {
      uint64_t a = j->changed.ptr[i].off / GK_SUMS_BLOCK * GK_SUMS_BLOCK;
      uint64_t b = j->changed.ptr[i].off + j->changed.ptr[i].len;

      b = (b + GK_SUMS_BLOCK - 1) / GK_SUMS_BLOCK * GK_SUMS_BLOCK;
      if (b > size)
        b = size;
      if (blocks.len > 0) {
        struct range *last = &blocks.ptr[blocks.len - 1];

        if (a < last->off + last->len)
          a = last->off + last->len;
      }
      if (a < b && range_add (&blocks, a, b - a) == -1) {
        perrorf (j->h, "realloc");
        range_vector_reset (&blocks);
        return -1;
      }
    }
    for (i = 0; i < blocks.len; ++i)
      j->progress_total += blocks.ptr[i].len;
    debug (j->h, "backup: %s: %zu changed ranges in %zu runs of blocks",
           gk_disk_get_name (j->src), j->changed.len, blocks.len);
    for (i = 0; i < blocks.len && r == 0; ++i)
      r = read_blocks (j, blocks.ptr[i].off, blocks.ptr[i].len);
    range_vector_reset (&blocks);
    return r;
  }
}

/* The directory. */

static int
is_backup_id (const char *name)
{
  return name[0] >= '0' && name[0] <= '9' && strchr (name, '/') == NULL;
}

static int
cmp_ids (const void *a, const void *b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  unsigned long nx = strtoul (x, NULL, 10), ny = strtoul (y, NULL, 10);

  if (nx != ny)
    return nx < ny ? -1 : 1;
  return strcmp (x, y);
}

char **
gk_backup_list (gk_h *h, const char *dir)
{
  DIR *d;
  struct dirent *e;
  char **ids = NULL;
  size_t n = 0;

  trace (h, "gk_backup_list %s", dir);
  d = opendir (dir);
  if (d == NULL) {
    perrorf (h, "backup directory %s", dir);
    return NULL;
  }
  ids = calloc (1, sizeof (char *));
  if (ids == NULL)
    goto oom;
  while ((e = readdir (d)) != NULL) {
    CLEANUP_FREE char *m = NULL;
    char **p;

    if (!is_backup_id (e->d_name))
      continue;
    if (asprintf (&m, "%s/%s/" MANIFEST, dir, e->d_name) == -1)
      goto oom;
    if (access (m, R_OK) != 0)
      continue;
    p = realloc (ids, (n + 2) * sizeof (char *));
    if (p == NULL)
      goto oom;
    ids = p;
    if ((ids[n] = strdup (e->d_name)) == NULL)
      goto oom;
    ids[++n] = NULL;
  }
  closedir (d);
  qsort (ids, n, sizeof (char *), cmp_ids);
  return ids;

 oom:
  perrorf (h, "backup directory %s", dir);
  closedir (d);
  gk_free_string_list (ids);
  return NULL;
}

/* The latest backup's ID, or NULL (*none set) when there is none. */
static char *
latest_id (gk_h *h, const char *dir, bool *none)
{
  CLEANUP_FREE_STRING_LIST char **ids = gk_backup_list (h, dir);
  size_t n = 0;
  char *r;

  *none = false;
  if (ids == NULL)
    return NULL;
  while (ids[n])
    n++;
  if (n == 0) {
    *none = true;
    return NULL;
  }
  r = strdup (ids[n-1]);
  if (r == NULL)
    perrorf (h, "strdup");
  return r;
}

static char *
need_latest (gk_h *h, const char *dir)
{
  bool none;
  char *id = latest_id (h, dir, &none);

  if (id == NULL && none)
    error_errno (h, ENOENT, "%s: no backups in this directory", dir);
  return id;
}

static json_object *
read_manifest (gk_h *h, const char *dir, const char *id)
{
  CLEANUP_FREE char *path = NULL;
  json_object *m, *v;

  if (strchr (id, '/') || strcmp (id, ".") == 0 || strcmp (id, "..") == 0) {
    error_errno (h, EINVAL, "%s: bad backup ID \"%s\"", dir, id);
    return NULL;
  }
  if (asprintf (&path, "%s/%s/" MANIFEST, dir, id) == -1) {
    perrorf (h, "asprintf");
    return NULL;
  }
  if (access (path, R_OK) != 0) {
    error_errno (h, errno, "%s: no backup \"%s\" (%s: %m)", dir, id, path);
    return NULL;
  }
  m = json_object_from_file (path);
  if (m == NULL) {
    error_errno (h, EIO, "%s: damaged manifest: %s", path,
                 json_util_get_last_err () ? json_util_get_last_err ()
                 : "not JSON");
    return NULL;
  }
  if (!json_object_object_get_ex (m, "format", &v) ||
      strcmp (json_object_get_string (v), "guestkit-backup") != 0 ||
      !json_object_object_get_ex (m, "disks", &v) ||
      !json_object_is_type (v, json_type_array)) {
    error_errno (h, EIO, "%s: not a guestkit backup manifest", path);
    json_object_put (m);
    return NULL;
  }
  return m;
}

static const char *
jstr (json_object *o, const char *key)
{
  json_object *v;

  if (!json_object_object_get_ex (o, key, &v) ||
      !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static uint64_t
juint (json_object *o, const char *key)
{
  json_object *v;

  if (!json_object_object_get_ex (o, key, &v))
    return 0;
  return (uint64_t) json_object_get_int64 (v);
}

/* The manifest's entry for a disk (by name; NULL: the only one). */
static json_object *
manifest_disk (gk_h *h, json_object *m, const char *dir, const char *id,
               const char *name)
{
  json_object *disks;
  size_t i, n;

  json_object_object_get_ex (m, "disks", &disks);
  n = json_object_array_length (disks);
  if (name == NULL) {
    if (n == 1)
      return json_object_array_get_idx (disks, 0);
    error_errno (h, EINVAL, "%s/%s: the backup has %zu disks: name one",
                 dir, id, n);
    return NULL;
  }
  for (i = 0; i < n; ++i) {
    json_object *d = json_object_array_get_idx (disks, i);
    const char *dn = jstr (d, "name");

    if (dn && strcmp (dn, name) == 0)
      return d;
  }
  error_errno (h, ENOENT, "%s/%s: the backup has no disk \"%s\"", dir, id,
               name);
  return NULL;
}

char *
gk_backup_get_manifest (gk_h *h, const char *dir, const char *id)
{
  CLEANUP_FREE char *latest = NULL;
  json_object *m;
  char *r;

  trace (h, "gk_backup_get_manifest %s %s", dir, id ? id : "(latest)");
  if (id == NULL && (id = latest = need_latest (h, dir)) == NULL)
    return NULL;
  m = read_manifest (h, dir, id);
  if (m == NULL)
    return NULL;
  r = strdup (json_object_to_json_string_ext (m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE |
                                              JSON_C_TO_STRING_SPACED));
  if (r == NULL)
    perrorf (h, "strdup");
  json_object_put (m);
  return r;
}

/* The checksums of a disk at backup id: an incremental backup's file
 * holds what changed since its parent's.
 */
static int
load_sums (gk_h *h, const char *dir, const char *id, const char *name,
           struct gk_sums *s, int depth)
{
  CLEANUP_FREE char *path = NULL;
  struct gk_sums base = { 0 };
  json_object *m, *md;
  const char *parent;
  int r = -1;

  if (depth > 10000) {
    error_errno (h, ELOOP, "%s: the chain of backups loops", dir);
    return -1;
  }
  m = read_manifest (h, dir, id);
  if (m == NULL)
    return -1;
  md = manifest_disk (h, m, dir, id, name);
  if (md == NULL)
    goto out;
  if (jstr (md, "sums") == NULL || strchr (jstr (md, "sums"), '/')) {
    error_errno (h, EIO, "%s/%s: damaged manifest", dir, id);
    goto out;
  }
  parent = jstr (m, "parent");
  if (parent &&
      load_sums (h, dir, parent, jstr (md, "name"), &base, depth + 1) == -1)
    goto out;
  if (asprintf (&path, "%s/%s/%s", dir, id, jstr (md, "sums")) == -1) {
    perrorf (h, "asprintf");
    goto out;
  }
  r = gk_int_sums_read (h, s, path, jstr (md, "sums_sha256"),
                        parent ? &base : NULL);
 out:
  gk_int_sums_free (&base);
  json_object_put (m);
  return r;
}

/* Remove a directory written by us (flat: files only). */
static void
remove_tree (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *e;

  if (d) {
    while ((e = readdir (d)) != NULL) {
      CLEANUP_FREE char *p = NULL;

      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (asprintf (&p, "%s/%s", path, e->d_name) != -1)
        unlink (p);
    }
    closedir (d);
  }
  rmdir (path);
}

static int
lock_dir (gk_h *h, const char *dir)
{
  CLEANUP_FREE char *path = NULL;
  int fd;

  if (asprintf (&path, "%s/.lock", dir) == -1) {
    perrorf (h, "asprintf");
    return -1;
  }
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    perrorf (h, "backup directory %s", dir);
    return -1;
  }
  if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
    error_errno (h, EBUSY, "%s: another guestkit-backup is using this "
                 "backup directory", dir);
    close (fd);
    return -1;
  }
  return fd;
}

/* Leftovers of a run that was killed. */
static void
remove_leftovers (gk_h *h, const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL) {
    CLEANUP_FREE char *p = NULL;

    if (strncmp (e->d_name, TMP_PREFIX, strlen (TMP_PREFIX)) != 0)
      continue;
    if (asprintf (&p, "%s/%s", dir, e->d_name) == -1)
      continue;
    warning (h, "%s: removing %s, left by an interrupted backup", dir,
             e->d_name);
    remove_tree (p);
  }
  closedir (d);
}

/* A file name for a disk's image: its name with anything odd made '_'. */
static char *
image_base (const char *name, size_t index, char **used, size_t nused)
{
  char *s;
  size_t i;

  if (strchr (name, '/') == NULL && strlen (name) < 64 && name[0] != '.')
    s = strdup (name);
  else if (asprintf (&s, "disk%zu", index) == -1)
    s = NULL;
  if (s == NULL)
    return NULL;
  for (i = 0; s[i]; ++i)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
          s[i] == '.'))
      s[i] = '_';
  for (i = 0; i < nused; ++i)
    if (used[i] && strcmp (used[i], s) == 0) {
      free (s);
      if (asprintf (&s, "disk%zu", index) == -1)
        return NULL;
      break;
    }
  return s;
}

static int
fsync_dir (gk_h *h, const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd == -1 || fsync (fd) == -1) {
    perrorf (h, "fsync: %s", dir);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

/* A new sparse raw image. */
static int
create_raw (gk_h *h, const char *path, uint64_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd == -1 || ftruncate (fd, size) == -1) {
    perrorf (h, "create: %s", path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  if (close (fd) == -1) {
    perrorf (h, "close: %s", path);
    return -1;
  }
  return 0;
}

/* A new image to write, opened: raw directly, qcow2 through the native
 * writer (lib/qcow2-writer.c: whole 64 KiB subclusters, sparse metadata,
 * no qemu process).
 */
static gk_disk *
new_image (gk_h *h, const char *path, const char *format, uint64_t size,
           const char *backing, const char *backing_format)
{
  struct gk_disk_source src = { 0 };

  if (strcmp (format, "qcow2") == 0) {
    if (gk_int_qcow2_writer_open (h, path, size, backing, backing_format,
                                  &src) == -1)
      return NULL;
    return gk_int_disk_new (h, &src, path, path, "qcow2", GK_DISK_READWRITE);
  }
  if (strcmp (format, "raw") != 0 || backing) {
    error_errno (h, EINVAL, "%s: a new image is qcow2, or raw without a "
                 "backing file", path);
    return NULL;
  }
  if (create_raw (h, path, size) == -1)
    return NULL;
  return gk_disk_open (h, path, "raw", GK_DISK_READWRITE);
}

/* The source's disks. */
static int
open_sources (gk_h *h, const struct gk_backup_params *p, const char *since,
              const char *new_cp, gk_disk ***disks, size_t *n,
              json_object **source_rtn)
{
  json_object *src = json_object_new_object ();
  int nsrc = !!p->domain + !!p->volume + !!p->file;

  if (nsrc != 1) {
    error_errno (h, EINVAL, "backup: name one source: a domain, a pool "
                 "volume or a file");
    json_object_put (src);
    return -1;
  }
  *disks = NULL;
  *n = 0;
  if (p->domain) {
    unsigned fl = (p->flags & GK_BACKUP_QUIESCE) ? GK_DISK_QUIESCE : 0;

    json_object_object_add (src, "type", json_object_new_string ("domain"));
    json_object_object_add (src, "name", json_object_new_string (p->domain));
    if (p->libvirt_uri)
      json_object_object_add (src, "uri",
                              json_object_new_string (p->libvirt_uri));
    if (gk_disk_open_domain (h, p->domain, p->libvirt_uri, since, new_cp, fl,
                             disks, n) == -1)
      goto err;
    if (*n == 0) {
      error_errno (h, ENOENT, "%s: the domain has no disks", p->domain);
      gk_disk_close_all (*disks, *n);
      goto err;
    }
  }
  else {
    gk_disk *d;

    if (p->volume) {
      if (p->pool == NULL) {
        error_errno (h, EINVAL, "backup: a volume needs its pool");
        goto err;
      }
      json_object_object_add (src, "type", json_object_new_string ("volume"));
      json_object_object_add (src, "pool", json_object_new_string (p->pool));
      json_object_object_add (src, "name",
                              json_object_new_string (p->volume));
      d = gk_disk_open_volume (h, p->pool, p->volume, 0);
    }
    else {
      json_object_object_add (src, "type", json_object_new_string ("file"));
      json_object_object_add (src, "name", json_object_new_string (p->file));
      d = gk_disk_open (h, p->file, p->file_format, 0);
    }
    if (d == NULL)
      goto err;
    *disks = malloc (sizeof (gk_disk *));
    if (*disks == NULL) {
      perrorf (h, "malloc");
      gk_disk_close (d);
      goto err;
    }
    (*disks)[0] = d;
    *n = 1;
  }
  *source_rtn = src;
  return 0;

 err:
  json_object_put (src);
  return -1;
}

static bool
same_source (json_object *a, json_object *b)
{
  const char *keys[] = { "type", "name", "pool" };
  size_t i;

  for (i = 0; i < 3; ++i) {
    const char *x = jstr (a, keys[i]), *y = jstr (b, keys[i]);

    if ((x == NULL) != (y == NULL) || (x && strcmp (x, y) != 0))
      return false;
  }
  return true;
}

static char *
random_hex (gk_h *h)
{
  unsigned char b[4];
  char *s;
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd == -1 || read (fd, b, 4) != 4) {
    perrorf (h, "/dev/urandom");
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  close (fd);
  if (asprintf (&s, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]) == -1) {
    perrorf (h, "asprintf");
    return NULL;
  }
  return s;
}

static json_object *
ranges_json (const range_vector *v)
{
  json_object *a = json_object_new_array ();
  size_t i;

  for (i = 0; i < v->len; ++i) {
    json_object *e = json_object_new_array ();

    json_object_array_add (e, json_object_new_int64 (v->ptr[i].off));
    json_object_array_add (e, json_object_new_int64 (v->ptr[i].len));
    json_object_array_add (a, e);
  }
  return a;
}

static char *
backup_run (gk_h *h, const struct gk_backup_params *p, bool inc)
{
  CLEANUP_FREE char *parent_id = NULL, *chain = NULL, *id = NULL;
  CLEANUP_FREE char *tmpdir = NULL, *finaldir = NULL, *new_cp = NULL;
  CLEANUP_FREE char *since_cp = NULL, *run = NULL;
  json_object *parent = NULL, *source = NULL, *manifest = NULL;
  json_object *disks_json = NULL;
  gk_disk **disks = NULL;
  size_t nr_disks = 0, i;
  bool *cp_made = NULL;
  char **used = NULL;
  const char *out_format = p->out_format ? p->out_format : "qcow2";
  unsigned long seq = 1;
  int lockfd = -1;
  char *ret = NULL;
  char stamp[32];
  time_t now = time (NULL);
  struct tm tm;
  bool none, use_since = true, use_cp = true;
  int r;

  h->cancelled = 0;
  if (p->dir == NULL) {
    error_errno (h, EINVAL, "backup: no backup directory");
    return NULL;
  }
  if (!!p->domain + !!p->volume + !!p->file != 1) {
    error_errno (h, EINVAL, "backup: name one source: a domain, a pool "
                 "volume or a file");
    return NULL;
  }
  if (strcmp (out_format, "qcow2") != 0 && strcmp (out_format, "raw") != 0) {
    error_errno (h, EINVAL, "backup: output format \"%s\": qcow2 or raw",
                 out_format);
    return NULL;
  }
  if (inc && p->out_format && strcmp (out_format, "qcow2") != 0) {
    error_errno (h, EINVAL, "backup: incremental backups are qcow2 overlays");
    return NULL;
  }
  if (mkdir (p->dir, 0755) == -1 && errno != EEXIST) {
    perrorf (h, "backup directory %s", p->dir);
    return NULL;
  }
  lockfd = lock_dir (h, p->dir);
  if (lockfd == -1)
    return NULL;
  remove_leftovers (h, p->dir);

  /* The previous backup (inc: the parent; full: whose checkpoint ends). */
  parent_id = latest_id (h, p->dir, &none);
  if (parent_id == NULL && !none)
    goto out;
  if (parent_id == NULL && inc) {
    error_errno (h, ENOENT, "%s: no full backup to add an incremental "
                 "backup to: take a full backup first", p->dir);
    goto out;
  }
  if (parent_id) {
    parent = read_manifest (h, p->dir, parent_id);
    if (parent == NULL)
      goto out;
    seq = strtoul (parent_id, NULL, 10) + 1;
    if (inc) {
      json_object *ps;

      json_object_object_get_ex (parent, "source", &ps);
      if (jstr (parent, "chain") == NULL || (chain = strdup (jstr (parent, "chain"))) == NULL) {
        error_errno (h, EIO, "%s/%s: manifest without a chain", p->dir,
                     parent_id);
        goto out;
      }
      (void) ps;
    }
  }
  if (chain == NULL && (chain = random_hex (h)) == NULL)
    goto out;

  /* The checkpoint's name is this run's own: a run killed within the
   * same second with the same ID may have left one of that ID.
   */
  if ((run = random_hex (h)) == NULL)
    goto out;
  gmtime_r (&now, &tm);
  strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  if (asprintf (&id, "%04lu-%s-%s", seq, stamp, inc ? "inc" : "full") == -1 ||
      asprintf (&tmpdir, "%s/" TMP_PREFIX "%s", p->dir, id) == -1 ||
      asprintf (&finaldir, "%s/%s", p->dir, id) == -1 ||
      asprintf (&new_cp, "guestkit-%s-%s-%s", chain, id, run) == -1) {
    perrorf (h, "asprintf");
    goto out;
  }
  if (mkdir (tmpdir, 0755) == -1) {
    perrorf (h, "mkdir: %s", tmpdir);
    goto out;
  }

  /* A running domain's disks all move to the checkpoint together; the
   * incremental point is the previous backup's checkpoint (the same for
   * every disk).
   */
  if (inc) {
    json_object *pd;

    size_t k;

    /* The first disk with a checkpoint (a running domain's raw disks
     * have none; its qcow2 disks share the libvirt checkpoint).
     */
    json_object_object_get_ex (parent, "disks", &pd);
    for (k = 0; k < json_object_array_length (pd) && since_cp == NULL; ++k)
      if (jstr (json_object_array_get_idx (pd, k), "checkpoint") &&
          (since_cp = strdup (jstr (json_object_array_get_idx (pd, k),
                                    "checkpoint"))) == NULL) {
        perrorf (h, "strdup");
        goto out;
      }
  }
  /* A running domain's backup job is made with the checkpoints: when
   * libvirt refuses them (the previous checkpoint is gone, or a disk is
   * not qcow2), the whole disks are read and compared by checksums.
   */
  gk_push_error_handler (h, NULL, NULL);
  r = open_sources (h, p, since_cp, new_cp, &disks, &nr_disks, &source);
  if (r == -1 && p->domain && since_cp) {
    CLEANUP_FREE char *why = strdup (gk_last_error (h));

    debug (h, "backup: %s: %s", p->domain, why);
    use_since = false;
    r = open_sources (h, p, NULL, new_cp, &disks, &nr_disks, &source);
    if (r == 0)
      warning (h, "%s: changes since checkpoint %s are not available (%s): "
               "comparing every block with the previous backup", p->domain,
               since_cp, why);
  }
  if (r == -1 && p->domain && gk_last_errno (h) == ENOTSUP) {
    debug (h, "backup: %s: %s", p->domain, gk_last_error (h));
    use_since = use_cp = false;
    r = open_sources (h, p, NULL, NULL, &disks, &nr_disks, &source);
  }
  gk_pop_error_handler (h);
  if (r == -1) {
    /* Said again, through the caller's handler this time. */
    CLEANUP_FREE char *msg = strdup (gk_last_error (h));
    int e = gk_last_errno (h);

    error_errno (h, e, "%s", msg ? msg : "backup");
    goto out;
  }
  if (inc) {
    json_object *ps;

    if (!json_object_object_get_ex (parent, "source", &ps) ||
        !same_source (ps, source)) {
      error_errno (h, EINVAL, "%s: the latest backup (%s) is of another "
                   "source: take a full backup into a new directory",
                   p->dir, parent_id);
      goto out;
    }
  }
  cp_made = calloc (nr_disks, sizeof (bool));
  used = calloc (nr_disks + 1, sizeof (char *));
  disks_json = json_object_new_array ();
  if (cp_made == NULL || used == NULL || disks_json == NULL) {
    perrorf (h, "calloc");
    goto out;
  }

  for (i = 0; i < nr_disks; ++i) {
    gk_disk *d = disks[i];
    const char *name = gk_disk_get_name (d);
    uint64_t size = gk_disk_get_size (d);
    struct job j = { .h = h, .src = d, .mode = MODE_FULL,
                     .progress = p->progress,
                     .progress_opaque = p->progress_opaque };
    json_object *pdisk = NULL, *dj;
    CLEANUP_FREE char *img = NULL, *imgpath = NULL, *sums = NULL;
    CLEANUP_FREE char *sumspath = NULL, *backing = NULL;
    const char *fmt = out_format;
    const char *pcp = NULL;
    char sums_hex[65];

    if (inc) {
      pdisk = manifest_disk (h, parent, p->dir, parent_id, name);
      if (pdisk == NULL)
        goto job_err;
      if (juint (pdisk, "size") != size) {
        error_errno (h, EINVAL, "%s: the disk's size changed since backup "
                     "%s (%" PRIu64 " -> %" PRIu64 " bytes): take a full "
                     "backup", name, parent_id, juint (pdisk, "size"), size);
        goto job_err;
      }
      pcp = jstr (pdisk, "checkpoint");
    }

    /* The new checkpoint, before anything is read. */
    gk_push_error_handler (h, NULL, NULL);
    if (use_cp)
      r = gk_disk_checkpoint_create (d, new_cp);
    else {
      error_errno (h, ENOTSUP, "%s: no checkpoints", name);
      r = -1;
    }
    gk_pop_error_handler (h);
    if (r == 0)
      cp_made[i] = true;
    else if (gk_last_errno (h) == ENOTSUP)
      debug (h, "backup: %s: no checkpoints (%s)", name, gk_last_error (h));
    else {
      /* Said again, through the caller's handler this time. */
      CLEANUP_FREE char *msg = strdup (gk_last_error (h));
      int e = gk_last_errno (h);

      error_errno (h, e, "%s", msg ? msg : "checkpoint");
      goto job_err;
    }

    if (inc) {
      if (load_sums (h, p->dir, parent_id, name, &j.parent_sums, 0) == -1)
        goto job_err;
      j.mode = pcp && cp_made[i] && use_since &&
        (since_cp == NULL || strcmp (pcp, since_cp) == 0)
        ? MODE_INC_CHECKPOINT : MODE_INC_SUMS;
      fmt = "qcow2";
      if (asprintf (&backing, "../%s/%s", parent_id,
                    jstr (pdisk, "image")) == -1) {
        perrorf (h, "asprintf");
        goto job_err;
      }
    }

    /* Domains: the disk's target (vda.qcow2); else disk.qcow2. */
    img = image_base (p->domain ? name : "disk", i, used, i);
    if (img == NULL ||
        asprintf (&imgpath, "%s/%s.%s", tmpdir, img, fmt) == -1 ||
        asprintf (&sums, "%s.sums", img) == -1 ||
        asprintf (&sumspath, "%s/%s", tmpdir, sums) == -1) {
      perrorf (h, "asprintf");
      goto job_err;
    }
    used[i] = strdup (img);
    if (p->disk_start)
      p->disk_start (p->progress_opaque, name, size);
    j.out = new_image (h, imgpath, fmt, size, backing,
                       backing ? jstr (pdisk, "image_format") : NULL);
    if (j.out == NULL)
      goto job_err;
    debug (h, "backup: %s: %s, %s", name,
           j.mode == MODE_FULL ? "full" :
           j.mode == MODE_INC_CHECKPOINT ? "changes since the checkpoint"
           : "changes by checksums", imgpath);
    r = job_run (&j, pcp);
    if (gk_int_disk_close_checked (j.out) == -1)
      r = -1;
    j.out = NULL;
    if (r == -1 ||
        gk_int_sums_write (h, &j.sums, inc ? &j.parent_sums : NULL,
                           sumspath, sums_hex) == -1) {
      job_free (&j);
      goto out;
    }

    dj = json_object_new_object ();
    json_object_object_add (dj, "name", json_object_new_string (name));
    json_object_object_add (dj, "source",
                            json_object_new_string (gk_disk_get_source (d)));
    json_object_object_add (dj, "source_format",
                            json_object_new_string (gk_disk_get_format (d)));
    json_object_object_add (dj, "size", json_object_new_int64 (size));
    {
      CLEANUP_FREE char *f = NULL;

      if (asprintf (&f, "%s.%s", img, fmt) == -1) {
        perrorf (h, "asprintf");
        json_object_put (dj);
        job_free (&j);
        goto out;
      }
      json_object_object_add (dj, "image", json_object_new_string (f));
    }
    json_object_object_add (dj, "image_format", json_object_new_string (fmt));
    if (backing)
      json_object_object_add (dj, "backing", json_object_new_string (backing));
    json_object_object_add (dj, "checkpoint",
                            cp_made[i] ? json_object_new_string (new_cp)
                            : NULL);
    json_object_object_add (dj, "changes", json_object_new_string
                            (j.mode == MODE_FULL ? "all" :
                             j.mode == MODE_INC_CHECKPOINT ? "checkpoint"
                             : "checksums"));
    json_object_object_add (dj, "written_bytes",
                            json_object_new_int64 (j.written_bytes));
    json_object_object_add (dj, "extents", ranges_json (&j.written));
    json_object_object_add (dj, "sums", json_object_new_string (sums));
    json_object_object_add (dj, "sums_block",
                            json_object_new_int64 (GK_SUMS_BLOCK));
    json_object_object_add (dj, "sums_sha256",
                            json_object_new_string (sums_hex));
    json_object_array_add (disks_json, dj);
    job_free (&j);
    continue;

  job_err:
    job_free (&j);
    goto out;
  }

  /* The manifest, then the rename that commits the backup. */
  manifest = json_object_new_object ();
  json_object_object_add (manifest, "format",
                          json_object_new_string ("guestkit-backup"));
  json_object_object_add (manifest, "version", json_object_new_int (1));
  json_object_object_add (manifest, "id", json_object_new_string (id));
  json_object_object_add (manifest, "type",
                          json_object_new_string (inc ? "inc" : "full"));
  json_object_object_add (manifest, "parent",
                          inc ? json_object_new_string (parent_id) : NULL);
  json_object_object_add (manifest, "chain", json_object_new_string (chain));
  strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_object_object_add (manifest, "created", json_object_new_string (stamp));
  json_object_object_add (manifest, "source", source);
  source = NULL;
  json_object_object_add (manifest, "disks", disks_json);
  disks_json = NULL;
  {
    CLEANUP_FREE char *mpath = NULL;
    int fd;

    if (asprintf (&mpath, "%s/" MANIFEST, tmpdir) == -1) {
      perrorf (h, "asprintf");
      goto out;
    }
    if (json_object_to_file_ext (mpath, manifest, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE |
                                 JSON_C_TO_STRING_SPACED) == -1) {
      error_errno (h, EIO, "%s: %s", mpath, json_util_get_last_err ());
      goto out;
    }
    fd = open (mpath, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fsync (fd) == -1) {
      perrorf (h, "fsync: %s", mpath);
      if (fd >= 0)
        close (fd);
      goto out;
    }
    close (fd);
  }
  if (fsync_dir (h, tmpdir) == -1)
    goto out;
  if (rename (tmpdir, finaldir) == -1) {
    perrorf (h, "rename: %s", finaldir);
    goto out;
  }
  if (fsync_dir (h, p->dir) == -1)
    goto out;
  ret = TAKE_PTR (id);

  /* Committed: the previous checkpoint of this chain is no longer needed,
   * nor any other of this chain (left by an interrupted run); a full
   * backup starts a new chain, and the old chain's last checkpoint goes.
   */
  for (i = 0; i < nr_disks; ++i) {
    CLEANUP_FREE_STRING_LIST char **cps = NULL;
    CLEANUP_FREE char *prefix = NULL;
    size_t k;

    if (!cp_made[i] || asprintf (&prefix, "guestkit-%s-", chain) == -1)
      continue;
    gk_push_error_handler (h, NULL, NULL);
    cps = gk_disk_checkpoint_list (disks[i]);
    gk_pop_error_handler (h);
    for (k = 0; cps && cps[k]; ++k)
      if (strncmp (cps[k], prefix, strlen (prefix)) == 0 &&
          strcmp (cps[k], new_cp) != 0 &&
          gk_disk_checkpoint_delete (disks[i], cps[k]) == -1)
        warning (h, "%s: could not delete the old checkpoint %s: %s",
                 gk_disk_get_name (disks[i]), cps[k], gk_last_error (h));
  }
  if (parent && !inc) {
    json_object *pd;

    json_object_object_get_ex (parent, "disks", &pd);
    for (i = 0; i < nr_disks; ++i) {
      json_object *pdisk = NULL;
      const char *pcp;
      size_t k;

      for (k = 0; k < json_object_array_length (pd); ++k) {
        json_object *x = json_object_array_get_idx (pd, k);

        if (jstr (x, "name") &&
            strcmp (jstr (x, "name"), gk_disk_get_name (disks[i])) == 0)
          pdisk = x;
      }
      if (pdisk == NULL || (pcp = jstr (pdisk, "checkpoint")) == NULL)
        continue;
      if (gk_disk_checkpoint_delete (disks[i], pcp) == -1)
        warning (h, "%s: could not delete the previous checkpoint %s: %s",
                 gk_disk_get_name (disks[i]), pcp, gk_last_error (h));
    }
  }

 out:
  if (ret == NULL && tmpdir) {
    /* Undo: the new checkpoints, the files. */
    for (i = 0; i < nr_disks; ++i)
      if (cp_made && cp_made[i]) {
        gk_push_error_handler (h, NULL, NULL);
        gk_disk_checkpoint_delete (disks[i], new_cp);
        gk_pop_error_handler (h);
      }
    remove_tree (tmpdir);
  }
  gk_disk_close_all (disks, nr_disks);
  if (used)
    for (i = 0; i < nr_disks; ++i)
      free (used[i]);
  free (used);
  free (cp_made);
  if (parent)
    json_object_put (parent);
  if (source)
    json_object_put (source);
  if (disks_json)
    json_object_put (disks_json);
  if (manifest)
    json_object_put (manifest);
  if (lockfd >= 0)
    close (lockfd);
  return ret;
}

char *
gk_backup_full (gk_h *h, const struct gk_backup_params *p)
{
  trace (h, "gk_backup_full %s", p->dir ? p->dir : "(null)");
  return backup_run (h, p, false);
}

char *
gk_backup_inc (gk_h *h, const struct gk_backup_params *p)
{
  trace (h, "gk_backup_inc %s", p->dir ? p->dir : "(null)");
  return backup_run (h, p, true);
}

/* Open a backup's disk image (read-only, through its chain). */
static gk_disk *
open_backup_disk (gk_h *h, const char *dir, const char *id,
                  const char *disk, json_object **mdisk_rtn,
                  struct gk_sums *sums, char **path_rtn)
{
  CLEANUP_FREE char *latest = NULL, *path = NULL, *spath = NULL;
  json_object *m, *md;
  gk_disk *d = NULL;

  if (id == NULL && (id = latest = need_latest (h, dir)) == NULL)
    return NULL;
  m = read_manifest (h, dir, id);
  if (m == NULL)
    return NULL;
  md = manifest_disk (h, m, dir, id, disk);
  if (md == NULL || jstr (md, "image") == NULL || jstr (md, "sums") == NULL ||
      strchr (jstr (md, "image"), '/') || strchr (jstr (md, "sums"), '/')) {
    if (md)
      error_errno (h, EIO, "%s/%s: damaged manifest", dir, id);
    goto out;
  }
  if (asprintf (&path, "%s/%s/%s", dir, id, jstr (md, "image")) == -1 ||
      asprintf (&spath, "%s/%s/%s", dir, id, jstr (md, "sums")) == -1) {
    perrorf (h, "asprintf");
    goto out;
  }
  if (sums && load_sums (h, dir, id, jstr (md, "name"), sums, 0) == -1)
    goto out;
  d = gk_disk_open (h, path, jstr (md, "image_format"), 0);
  if (d == NULL) {
    if (sums)
      gk_int_sums_free (sums);
    goto out;
  }
  if (gk_disk_get_size (d) != juint (md, "size") ||
      (sums && sums->disk_size != juint (md, "size"))) {
    error_errno (h, EIO, "%s: the image is %" PRIu64 " bytes, the manifest "
                 "says %" PRIu64, path, gk_disk_get_size (d),
                 juint (md, "size"));
    gk_disk_close (d);
    d = NULL;
    if (sums)
      gk_int_sums_free (sums);
    goto out;
  }
  if (mdisk_rtn)
    *mdisk_rtn = json_object_get (md);
  if (path_rtn)
    *path_rtn = TAKE_PTR (path);
 out:
  json_object_put (m);
  return d;
}

/* Verify and restore: every block read through the chain is compared
 * with the recorded checksums; restore also writes it.
 */
struct check {
  gk_h *h;
  const char *name;
  struct gk_sums *sums;
  gk_disk *out;                 /* restore: the target, else NULL */
  uint64_t written;
};

static int
check_block (void *opaque, uint64_t block, uint64_t offset, size_t len,
             const unsigned char *data, const unsigned char *sum)
{
  struct check *c = opaque;

  if (memcmp (sum, c->sums->sum + block * GK_SUM_LEN, GK_SUM_LEN) != 0) {
    error_errno (c->h, EIO, "%s: block %" PRIu64 " (bytes %" PRIu64 "-%"
                 PRIu64 ") does not match its checksum: the backup is "
                 "damaged", c->name, block, offset, offset + len - 1);
    return -1;
  }
  if (c->out && data) {
    struct job j = { .h = c->h, .out = c->out };
    int r = write_piece (&j, data, offset, offset, len, false);

    c->written += j.written_bytes;
    range_vector_reset (&j.written);
    return r;
  }
  return 0;
}

static int
check_disk (gk_h *h, gk_disk *d, struct gk_sums *sums, gk_disk *out,
            gk_progress_cb cb, void *opaque)
{
  struct check c = { .h = h, .name = gk_disk_get_name (d), .sums = sums,
                     .out = out };
  struct gk_blocks b;
  int r;

  if (gk_int_blocks_init (h, &b, gk_disk_get_size (d), 0, check_block,
                          &c) == -1)
    return -1;
  gk_disk_set_progress_callback (d, cb, opaque);
  r = gk_disk_read_extents (d, 0, gk_disk_get_size (d), NULL,
                            gk_int_blocks_feed, &b);
  gk_int_blocks_free (&b);
  return r == 0 ? 0 : -1;
}

int
gk_backup_verify (gk_h *h, const char *dir, const char *id,
                  gk_progress_cb cb, void *opaque)
{
  CLEANUP_FREE char *latest = NULL;
  json_object *m, *disks;
  size_t i, n;
  int r = 0;

  trace (h, "gk_backup_verify %s %s", dir, id ? id : "(latest)");
  h->cancelled = 0;
  if (id == NULL && (id = latest = need_latest (h, dir)) == NULL)
    return -1;
  m = read_manifest (h, dir, id);
  if (m == NULL)
    return -1;
  json_object_object_get_ex (m, "disks", &disks);
  n = json_object_array_length (disks);
  for (i = 0; i < n && r == 0; ++i) {
    const char *name = jstr (json_object_array_get_idx (disks, i), "name");
    struct gk_sums sums = { 0 };
    gk_disk *d;

    if (name == NULL) {
      error_errno (h, EIO, "%s/%s: damaged manifest", dir, id);
      r = -1;
      break;
    }
    d = open_backup_disk (h, dir, id, name, NULL, &sums, NULL);
    if (d == NULL) {
      r = -1;
      break;
    }
    r = check_disk (h, d, &sums, NULL, cb, opaque);
    gk_int_sums_free (&sums);
    gk_disk_close (d);
  }
  json_object_put (m);
  return r;
}

int
gk_backup_restore (gk_h *h, const struct gk_restore_params *p)
{
  CLEANUP_FREE char *tmp = NULL;
  const char *fmt = p->out_format ? p->out_format : "raw";
  struct gk_sums sums = { 0 };
  gk_disk *d, *out = NULL;
  uint64_t size;
  bool to_vol = p->pool != NULL;
  int r = -1;

  trace (h, "gk_backup_restore %s %s %s", p->dir, p->id ? p->id : "(latest)",
         p->disk ? p->disk : "(the disk)");
  h->cancelled = 0;
  if (p->dir == NULL || (to_vol ? p->volume == NULL : p->out_file == NULL)) {
    error_errno (h, EINVAL, "restore: name the backup directory and a new "
                 "file or pool volume");
    return -1;
  }
  if (strcmp (fmt, "raw") != 0 && strcmp (fmt, "qcow2") != 0) {
    error_errno (h, EINVAL, "restore: format \"%s\": raw or qcow2", fmt);
    return -1;
  }
  d = open_backup_disk (h, p->dir, p->id, p->disk, NULL, &sums, NULL);
  if (d == NULL)
    return -1;
  size = gk_disk_get_size (d);

  if (to_vol) {
    struct gk_vol_params vp = { .capacity = size, .allocation = 0,
                                .format = fmt };

    if (strchr (p->volume, '/') || p->volume[0] == '.' ||
        p->volume[0] == '\0') {
      error_errno (h, EINVAL, "restore: bad volume name \"%s\"", p->volume);
      goto out;
    }
    /* A volume of that name must not exist (never overwritten). */
    gk_push_error_handler (h, NULL, NULL);
    {
      struct gk_vol_info *info = gk_vol_get_info (h, p->pool, p->volume);
      gk_pop_error_handler (h);
      if (info) {
        gk_free_vol_info (info);
        error_errno (h, EEXIST, "restore: volume %s/%s exists already",
                     p->pool, p->volume);
        goto out;
      }
    }
    if (asprintf (&tmp, TMP_PREFIX "%s", p->volume) == -1) {
      perrorf (h, "asprintf");
      goto out;
    }
    if (gk_vol_create (h, p->pool, tmp, &vp) == -1) {
      free (tmp);
      tmp = NULL;
      goto out;
    }
    out = gk_disk_open_volume (h, p->pool, tmp, GK_DISK_READWRITE);
  }
  else {
    struct stat st;

    if (lstat (p->out_file, &st) == 0) {
      error_errno (h, EEXIST, "restore: %s exists already", p->out_file);
      goto out;
    }
    if (asprintf (&tmp, "%s" ".gk-tmp.%d", p->out_file, (int) getpid ()) == -1) {
      perrorf (h, "asprintf");
      goto out;
    }
    out = new_image (h, tmp, fmt, size, NULL, NULL);
    if (out == NULL && access (tmp, F_OK) != 0) {
      free (tmp);
      tmp = NULL;
    }
  }
  if (out == NULL)
    goto out;
  if (gk_disk_get_size (out) < size) {
    error_errno (h, EIO, "restore: the new disk is smaller than the backup");
    goto out;
  }
  r = check_disk (h, d, &sums, out, p->progress, p->progress_opaque);
  if (gk_int_disk_close_checked (out) == -1)
    r = -1;
  out = NULL;
  if (r == 0) {
    if (to_vol)
      r = gk_vol_rename (h, p->pool, tmp, p->volume);
    else if (rename (tmp, p->out_file) == -1) {
      perrorf (h, "rename: %s", p->out_file);
      r = -1;
    }
  }

 out:
  if (out)
    gk_disk_close (out);
  if (r == -1 && tmp) {
    gk_push_error_handler (h, NULL, NULL);
    if (to_vol)
      gk_vol_delete (h, p->pool, tmp);
    else
      unlink (tmp);
    gk_pop_error_handler (h);
  }
  gk_int_sums_free (&sums);
  gk_disk_close (d);
  return r;
}

int
gk_backup_add_drive (gk_h *h, const char *dir, const char *id,
                     const char *disk)
{
  CLEANUP_FREE char *path = NULL;
  json_object *md = NULL;
  gk_disk *d;
  int r;

  trace (h, "gk_backup_add_drive %s %s %s", dir, id ? id : "(latest)",
         disk ? disk : "(the disk)");
  d = open_backup_disk (h, dir, id, disk, &md, NULL, &path);
  if (d == NULL)
    return -1;
  gk_disk_close (d);
  r = gk_add_drive (h, path, jstr (md, "image_format"), 0, 0);
  json_object_put (md);
  return r;
}
