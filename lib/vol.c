/* libguestkit: storage volumes.  The pool's lock is held for every call;
 * a clone between two pools holds both, taken in name order.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>

#include "internal.h"
#include "pool-internal.h"
#include "disk-internal.h"

void
gk_int_free_vol_state (struct vol_state *st)
{
  free (st->name);
  free (st->path);
  free (st->format);
  free (st->backing);
  free (st->backing_format);
  memset (st, 0, sizeof *st);
}

void
gk_free_vol_info (struct gk_vol_info *info)
{
  if (info == NULL)
    return;
  free (info->pool);
  free (info->name);
  free (info->path);
  free (info->format);
  free (info->backing);
  free (info->backing_format);
  free (info);
}

static int
not_supported (gk_h *h, const struct pool_def *def, const char *what)
{
  error_errno (h, ENOTSUP, "%s pools do not support %s", def->type, what);
  return -1;
}

/* Does the volume exist?  1 yes, 0 no, -1 error. */
static int
vol_exists (gk_h *h, const struct pool_def *def,
            const struct pool_backend *b, const char *name)
{
  CLEANUP_FREE_STRING_LIST char **names = NULL;
  size_t i;

  if (b->vol_list (h, def, &names) == -1)
    return -1;
  for (i = 0; names[i]; ++i)
    if (strcmp (names[i], name) == 0)
      return 1;
  return 0;
}

static int
need_vol (gk_h *h, const char *pool, const struct pool_def *def,
          const struct pool_backend *b, const char *name)
{
  int r;

  if (gk_int_require_active (h, pool) == -1 ||
      gk_int_check_name (h, "volume", name) == -1)
    return -1;
  r = vol_exists (h, def, b, name);
  if (r == 0)
    error_errno (h, ENOENT, "no volume called ‘%s’ in pool ‘%s’", name, pool);
  return r == 1 ? 0 : -1;
}

static int
create_op (gk_h *h, const char *pool, struct pool_def *def,
           const struct pool_backend *b, void *arg)
{
  const struct vol_def *vol = arg;
  int r;

  if (gk_int_require_active (h, pool) == -1)
    return -1;
  if (b->vol_create == NULL)
    return not_supported (h, def, "volume creation");
  r = vol_exists (h, def, b, vol->name);
  if (r == -1)
    return -1;
  if (r == 1) {
    error_errno (h, EEXIST, "volume ‘%s’ already exists in pool ‘%s’",
                 vol->name, pool);
    return -1;
  }
  return b->vol_create (h, def, vol);
}

int
gk_vol_create_xml (gk_h *h, const char *pool, const char *xml)
{
  struct vol_def *vol;
  int r;

  trace (h, "gk_vol_create_xml %s", pool);
  vol = gk_int_parse_vol_xml (h, xml);
  if (vol == NULL)
    return -1;
  r = gk_int_with_pool (h, pool, create_op, vol);
  gk_int_free_vol_def (vol);
  return r;
}

int
gk_vol_create (gk_h *h, const char *pool, const char *name,
               const struct gk_vol_params *p)
{
  struct vol_def vol = {
    .name = (char *) name, .capacity = p->capacity,
    .allocation = p->allocation < 0 ? p->capacity : (uint64_t) p->allocation,
    .has_allocation = true,
    .format = (char *) p->format,
    .backing_path = (char *) p->backing,
    .backing_format = (char *) p->backing_format,
  };

  trace (h, "gk_vol_create %s %s %" PRIu64 " %s", pool, name, p->capacity,
         p->format ? p->format : "(default)");
  if (gk_int_check_name (h, "volume", name) == -1)
    return -1;
  if (p->backing && p->backing_format == NULL) {
    error_errno (h, EINVAL, "vol_create: a backing file needs its format");
    return -1;
  }
  return gk_int_with_pool (h, pool, create_op, &vol);
}

static int
delete_op (gk_h *h, const char *pool, struct pool_def *def,
           const struct pool_backend *b, void *arg)
{
  const char *name = arg;

  struct vol_state st = { 0 };

  if (need_vol (h, pool, def, b, name) == -1)
    return -1;
  if (b->vol_delete == NULL)
    return not_supported (h, def, "volume deletion");
  /* Deleting a disk a defined guest still uses is allowed, with a word. */
  if (b->vol_info (h, def, name, &st) == 0 && st.path) {
    CLEANUP_FREE_STRING_LIST char **users =
      gk_int_domains_using_path (h, st.path);
    size_t i;

    for (i = 0; users && users[i]; ++i)
      warning (h, "volume ‘%s’ is a disk of the libvirt domain ‘%s’",
               name, users[i]);
  }
  gk_int_free_vol_state (&st);
  return b->vol_delete (h, def, name);
}

int
gk_vol_delete (gk_h *h, const char *pool, const char *name)
{
  trace (h, "gk_vol_delete %s %s", pool, name);
  return gk_int_with_pool (h, pool, delete_op, (void *) name);
}

struct resize_arg { const char *name; uint64_t capacity; unsigned flags; };

static int
resize_op (gk_h *h, const char *pool, struct pool_def *def,
           const struct pool_backend *b, void *arg)
{
  struct resize_arg *r = arg;
  struct vol_state st = { 0 };
  int ret;

  if (need_vol (h, pool, def, b, r->name) == -1)
    return -1;
  if (b->vol_resize == NULL)
    return not_supported (h, def, "volume resize");
  if (b->vol_info (h, def, r->name, &st) == -1)
    return -1;
  if (r->capacity < st.capacity && !(r->flags & GK_VOL_RESIZE_SHRINK)) {
    error_errno (h, EINVAL, "cannot shrink volume ‘%s’ from %" PRIu64
                 " to %" PRIu64 " bytes without --shrink", r->name,
                 st.capacity, r->capacity);
    gk_int_free_vol_state (&st);
    return -1;
  }
  gk_int_free_vol_state (&st);
  ret = b->vol_resize (h, def, r->name, r->capacity, r->flags);
  return ret;
}

int
gk_vol_resize (gk_h *h, const char *pool, const char *name,
               uint64_t capacity, unsigned flags)
{
  struct resize_arg r = { name, capacity, flags };

  trace (h, "gk_vol_resize %s %s %" PRIu64 " %u", pool, name, capacity, flags);
  if (flags & ~GK_VOL_RESIZE_SHRINK) {
    error_errno (h, EINVAL, "vol_resize: unknown flags 0x%x", flags);
    return -1;
  }
  return gk_int_with_pool (h, pool, resize_op, &r);
}

int
gk_vol_clone (gk_h *h, const char *src_pool, const char *src,
              const char *dst_pool, const char *dst, unsigned flags)
{
  const struct pool_backend *sb, *db;
  struct pool_def *sdef = NULL, *ddef = NULL;
  struct vol_state st = { 0 };
  bool same = strcmp (src_pool, dst_pool) == 0;
  int lock1 = -1, lock2 = -1, r = -1, e;

  trace (h, "gk_vol_clone %s/%s %s/%s %u", src_pool, src, dst_pool, dst, flags);
  if (flags & ~(GK_VOL_CLONE_REFLINK | GK_VOL_CLONE_LINKED)) {
    error_errno (h, EINVAL, "vol_clone: unknown flags 0x%x", flags);
    return -1;
  }
  if (gk_int_check_name (h, "pool", src_pool) == -1 ||
      gk_int_check_name (h, "pool", dst_pool) == -1 ||
      gk_int_check_name (h, "volume", src) == -1 ||
      gk_int_check_name (h, "volume", dst) == -1)
    return -1;
  /* Two locks in name order, so two opposite clones cannot deadlock. */
  lock1 = gk_int_pool_lock (h, strcmp (src_pool, dst_pool) <= 0
                            ? src_pool : dst_pool);
  if (lock1 == -1)
    return -1;
  if (!same) {
    lock2 = gk_int_pool_lock (h, strcmp (src_pool, dst_pool) <= 0
                              ? dst_pool : src_pool);
    if (lock2 == -1)
      goto out;
  }
  sdef = gk_int_load_pool (h, src_pool, &sb);
  if (sdef == NULL)
    goto out;
  ddef = gk_int_load_pool (h, dst_pool, &db);
  if (ddef == NULL)
    goto out;
  if (need_vol (h, src_pool, sdef, sb, src) == -1 ||
      gk_int_require_active (h, dst_pool) == -1)
    goto out;
  e = vol_exists (h, ddef, db, dst);
  if (e == -1)
    goto out;
  /* Most backends make dst; iscsi copies into a LUN made on the target. */
  if (e == 1 && !db->clone_into_existing) {
    error_errno (h, EEXIST, "volume ‘%s’ already exists in pool ‘%s’",
                 dst, dst_pool);
    goto out;
  }
  if (e == 0 && db->clone_into_existing) {
    error_errno (h, ENOENT, "no volume called ‘%s’ in pool ‘%s’ (%s pools "
                 "copy into an existing volume)", dst, dst_pool, ddef->type);
    goto out;
  }
  if (db->vol_clone == NULL) {
    not_supported (h, ddef, "volume clone");
    goto out;
  }
  if (same && strcmp (src, dst) == 0) {
    error_errno (h, EINVAL, "vol_clone: ‘%s’ cannot be copied onto itself",
                 src);
    goto out;
  }
  if (sb->vol_info (h, sdef, src, &st) == -1)
    goto out;
  if (db->clone_into_existing) {
    struct vol_state dst_st = { 0 };
    uint64_t cap;

    if (db->vol_info (h, ddef, dst, &dst_st) == -1)
      goto out;
    cap = dst_st.capacity;
    gk_int_free_vol_state (&dst_st);
    if (cap < st.capacity) {
      error_errno (h, ENOSPC, "volume ‘%s’ of pool ‘%s’ (%" PRIu64 " bytes) "
                   "is smaller than ‘%s’ (%" PRIu64 " bytes)", dst, dst_pool,
                   cap, src, st.capacity);
      goto out;
    }
  }
  r = db->vol_clone (h, ddef, dst, sdef, &st, flags);
 out:
  gk_int_free_vol_state (&st);
  gk_int_free_pool_def (sdef);
  gk_int_free_pool_def (ddef);
  gk_int_pool_unlock (lock2);
  gk_int_pool_unlock (lock1);
  return r;
}

struct rename_arg { const char *old_name, *new_name; };

static int
rename_op (gk_h *h, const char *pool, struct pool_def *def,
           const struct pool_backend *b, void *arg)
{
  struct rename_arg *r = arg;
  struct vol_state st = { 0 };
  int e;

  if (need_vol (h, pool, def, b, r->old_name) == -1)
    return -1;
  e = vol_exists (h, def, b, r->new_name);
  if (e == -1)
    return -1;
  if (e == 1) {
    error_errno (h, EEXIST, "volume ‘%s’ already exists in pool ‘%s’",
                 r->new_name, pool);
    return -1;
  }
  if (b->vol_rename == NULL)
    return not_supported (h, def, "volume rename");
  /* A defined guest using the old path would lose its disk: a word.
   * No guest uses a temporary volume (and virt-clone renames many).
   */
  if (!gk_int_is_tmp_name (r->old_name) &&
      b->vol_info (h, def, r->old_name, &st) == 0 && st.path) {
    CLEANUP_FREE_STRING_LIST char **users =
      gk_int_domains_using_path (h, st.path);
    size_t i;

    for (i = 0; users && users[i]; ++i)
      warning (h, "volume ‘%s’ is a disk of the libvirt domain ‘%s’",
               r->old_name, users[i]);
  }
  gk_int_free_vol_state (&st);
  return b->vol_rename (h, def, r->old_name, r->new_name);
}

int
gk_vol_rename (gk_h *h, const char *pool, const char *old_name,
               const char *new_name)
{
  struct rename_arg r = { old_name, new_name };

  trace (h, "gk_vol_rename %s %s %s", pool, old_name, new_name);
  if (gk_int_check_name (h, "volume", old_name) == -1 ||
      gk_int_check_name (h, "volume", new_name) == -1)
    return -1;
  if (strcmp (old_name, new_name) == 0) {
    error_errno (h, EEXIST, "vol_rename: the volume is already called ‘%s’",
                 old_name);
    return -1;
  }
  return gk_int_with_pool (h, pool, rename_op, &r);
}

static int
wipe_op (gk_h *h, const char *pool, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  const char *name = arg;

  if (need_vol (h, pool, def, b, name) == -1)
    return -1;
  if (b->vol_wipe == NULL)
    return not_supported (h, def, "volume wipe");
  return b->vol_wipe (h, def, name);
}

int
gk_vol_wipe (gk_h *h, const char *pool, const char *name)
{
  trace (h, "gk_vol_wipe %s %s", pool, name);
  return gk_int_with_pool (h, pool, wipe_op, (void *) name);
}

struct xfer_arg {
  const char *name;
  int fd;
  bool upload;
  gk_progress_cb cb;
  void *opaque;
};

static int
xfer_op (gk_h *h, const char *pool, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  struct xfer_arg *x = arg;

  if (need_vol (h, pool, def, b, x->name) == -1)
    return -1;
  if (x->upload) {
    if (b->vol_upload == NULL)
      return not_supported (h, def, "volume upload");
    return b->vol_upload (h, def, x->name, x->fd, x->cb, x->opaque);
  }
  if (b->vol_download == NULL)
    return not_supported (h, def, "volume download");
  return b->vol_download (h, def, x->name, x->fd, x->cb, x->opaque);
}

int
gk_vol_upload (gk_h *h, const char *pool, const char *name,
               const char *local_file, gk_progress_cb cb, void *opaque)
{
  struct xfer_arg x = { name, -1, true, cb, opaque };
  int r;

  trace (h, "gk_vol_upload %s %s %s", pool, name, local_file);
  x.fd = open (local_file, O_RDONLY | O_CLOEXEC);
  if (x.fd == -1) {
    perrorf (h, "open: %s", local_file);
    return -1;
  }
  r = gk_int_with_pool (h, pool, xfer_op, &x);
  close (x.fd);
  return r;
}

int
gk_vol_download (gk_h *h, const char *pool, const char *name,
                 const char *local_file, gk_progress_cb cb, void *opaque)
{
  struct xfer_arg x = { name, -1, false, cb, opaque };
  CLEANUP_FREE char *tmp = NULL;
  int r;

  trace (h, "gk_vol_download %s %s %s", pool, name, local_file);
  /* Into a temporary file renamed at the end: a failed download leaves
   * nothing behind, and never a half-written file under the real name.
   */
  if (asprintf (&tmp, "%s.gk-tmp.%d", local_file, (int) getpid ()) == -1) {
    perrorf (h, "download");
    return -1;
  }
  x.fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (x.fd == -1) {
    perrorf (h, "open: %s", tmp);
    return -1;
  }
  r = gk_int_with_pool (h, pool, xfer_op, &x);
  if (r == 0 && fsync (x.fd) == -1) {
    perrorf (h, "fsync: %s", local_file);
    r = -1;
  }
  close (x.fd);
  if (r == 0 && rename (tmp, local_file) == -1) {
    perrorf (h, "rename: %s", local_file);
    r = -1;
  }
  if (r == -1)
    unlink (tmp);
  return r;
}

struct list_arg { char **names; };

static int
list_op (gk_h *h, const char *pool, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  struct list_arg *l = arg;
  size_t i, j;

  if (gk_int_require_active (h, pool) == -1 ||
      b->vol_list (h, def, &l->names) == -1)
    return -1;
  /* Temporary volumes are not volumes (gk_pool_list_leftovers). */
  for (i = j = 0; l->names[i]; ++i) {
    if (gk_int_is_tmp_name (l->names[i]))
      free (l->names[i]);
    else
      l->names[j++] = l->names[i];
  }
  l->names[j] = NULL;
  return 0;
}

char **
gk_vol_list (gk_h *h, const char *pool)
{
  struct list_arg l = { NULL };

  trace (h, "gk_vol_list %s", pool);
  if (gk_int_with_pool (h, pool, list_op, &l) == -1)
    return NULL;
  return l.names;
}

struct info_arg {
  const char *name;
  struct vol_state st;
  char *type;
};

static int
info_op (gk_h *h, const char *pool, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  struct info_arg *i = arg;

  if (need_vol (h, pool, def, b, i->name) == -1)
    return -1;
  if (b->vol_info (h, def, i->name, &i->st) == -1)
    return -1;
  i->type = strdup (def->type);
  if (i->type == NULL) {
    perrorf (h, "vol_info");
    return -1;
  }
  return 0;
}

struct gk_vol_info *
gk_vol_get_info (gk_h *h, const char *pool, const char *name)
{
  struct info_arg i = { .name = name };
  struct gk_vol_info *info;

  trace (h, "gk_vol_get_info %s %s", pool, name);
  if (gk_int_with_pool (h, pool, info_op, &i) == -1) {
    gk_int_free_vol_state (&i.st);
    free (i.type);
    return NULL;
  }
  free (i.type);
  info = calloc (1, sizeof *info);
  if (info == NULL || (info->pool = strdup (pool)) == NULL) {
    perrorf (h, "vol_info");
    free (info);
    gk_int_free_vol_state (&i.st);
    return NULL;
  }
  info->name = i.st.name;
  info->path = i.st.path;
  info->format = i.st.format;
  info->backing = i.st.backing;
  info->backing_format = i.st.backing_format;
  info->capacity = i.st.capacity;
  info->allocation = i.st.allocation;
  return info;
}

char *
gk_vol_get_xml (gk_h *h, const char *pool, const char *name)
{
  struct info_arg i = { .name = name };
  char *xml = NULL;

  trace (h, "gk_vol_get_xml %s %s", pool, name);
  if (gk_int_with_pool (h, pool, info_op, &i) == 0)
    xml = gk_int_format_vol_xml (h, &i.st, i.type);
  gk_int_free_vol_state (&i.st);
  free (i.type);
  return xml;
}

char *
gk_vol_get_path (gk_h *h, const char *pool, const char *name)
{
  struct gk_vol_info *info = gk_vol_get_info (h, pool, name);
  char *path;

  if (info == NULL)
    return NULL;
  path = TAKE_PTR (info->path);
  gk_free_vol_info (info);
  return path;
}

int
gk_add_volume (gk_h *h, const char *pool, const char *name, unsigned flags)
{
  struct gk_vol_info *info;
  int r;

  trace (h, "gk_add_volume %s %s %u", pool, name, flags);
  info = gk_vol_get_info (h, pool, name);
  if (info == NULL)
    return -1;
  /* The recorded format, never a probe (CVE-2010-3851). */
  r = gk_add_drive (h, info->path, info->format ? info->format : "raw", 0,
                    flags);
  gk_free_vol_info (info);
  return r;
}

struct disk_arg {
  const char *name;
  unsigned flags;
  struct gk_disk_source src;
};

static int
disk_op (gk_h *h, const char *pool, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  struct disk_arg *a = arg;
  struct vol_state st = { 0 };
  int r;

  if (need_vol (h, pool, def, b, a->name) == -1)
    return -1;
  if (b->size > offsetof (struct pool_backend, vol_open_disk) &&
      b->vol_open_disk)
    return b->vol_open_disk (h, def, a->name, a->flags, &a->src);
  if (b->vol_info (h, def, a->name, &st) == -1)
    return -1;
  if (st.path == NULL || st.path[0] != '/') {
    gk_int_free_vol_state (&st);
    return not_supported (h, def, "block-level access");
  }
  /* The recorded format, never a probe (CVE-2010-3851). */
  r = gk_int_disk_open_file (h, st.path, st.format ? st.format : "raw",
                             a->flags, &a->src);
  gk_int_free_vol_state (&st);
  return r;
}

int
gk_int_vol_open_disk (gk_h *h, const char *pool, const char *name,
                      unsigned flags, struct gk_disk_source *src,
                      char **path_rtn, char **format_rtn)
{
  struct disk_arg a = { .name = name, .flags = flags };
  struct gk_vol_info *info;

  info = gk_vol_get_info (h, pool, name);
  if (info == NULL)
    return -1;
  if (gk_int_with_pool (h, pool, disk_op, &a) == -1) {
    gk_free_vol_info (info);
    return -1;
  }
  *src = a.src;
  *path_rtn = info->path;
  info->path = NULL;
  *format_rtn = strdup (info->format ? info->format : "raw");
  gk_free_vol_info (info);
  if (*format_rtn == NULL) {
    perrorf (h, "%s/%s", pool, name);
    if (src->ops->close)
      src->ops->close (h, src->priv);
    free (*path_rtn);
    return -1;
  }
  return 0;
}

gk_disk *
gk_disk_open_volume (gk_h *h, const char *pool, const char *name,
                     unsigned flags)
{
  struct gk_disk_source src = { 0 };
  CLEANUP_FREE char *label = NULL, *path = NULL, *format = NULL;

  trace (h, "gk_disk_open_volume %s %s %u", pool, name, flags);
  if (flags & ~(GK_DISK_READWRITE | GK_DISK_QUIESCE)) {
    error_errno (h, EINVAL, "gk_disk_open_volume: unknown flags 0x%x", flags);
    return NULL;
  }
  if (asprintf (&label, "%s/%s", pool, name) == -1) {
    perrorf (h, "%s/%s", pool, name);
    return NULL;
  }
  if (gk_int_vol_open_disk (h, pool, name, flags, &src, &path,
                            &format) == -1)
    return NULL;
  return gk_int_disk_new (h, &src, label, path, format, flags);
}

/* The guestkit rbd pool over the rados pool ceph_pool with a monitor
 * host[:port] (host NULL: any), or NULL (no error) when there is none.
 */
char *
gk_int_pool_find_rbd (gk_h *h, const char *ceph_pool, const char *host)
{
  CLEANUP_FREE_STRING_LIST char **pools = NULL;
  CLEANUP_FREE char *hname = NULL;
  char *found = NULL, *colon;
  int hport = 0;
  size_t i, k;

  gk_push_error_handler (h, NULL, NULL);
  pools = gk_pool_list (h);
  gk_pop_error_handler (h);
  if (pools == NULL)
    return NULL;
  if (host) {
    hname = strdup (host);
    if (hname == NULL)
      return NULL;
    colon = strrchr (hname, ':');
    if (colon && strchr (hname, ']') == NULL && strchr (colon + 1, ':') == NULL) {
      *colon = '\0';
      hport = atoi (colon + 1);
    }
  }
  for (i = 0; pools[i] && found == NULL; ++i) {
    const struct pool_backend *b;
    struct pool_def *def;

    gk_push_error_handler (h, NULL, NULL);
    def = gk_int_load_pool (h, pools[i], &b);
    gk_pop_error_handler (h);
    if (def == NULL)
      continue;
    if (strcmp (def->type, "rbd") == 0 && def->source_name &&
        strcmp (def->source_name, ceph_pool) == 0) {
      if (hname == NULL)
        found = strdup (pools[i]);
      for (k = 0; hname && k < def->nr_hosts && found == NULL; ++k)
        if (strcmp (def->hosts[k].name, hname) == 0 &&
            (hport == 0 || def->hosts[k].port == 0 ||
             def->hosts[k].port == hport))
          found = strdup (pools[i]);
    }
    gk_int_free_pool_def (def);
  }
  return found;
}
