/* libguestkit native engine: the files of an ext2/3/4 filesystem,
 * read-only, through libext2fs (see fs-ext-files.h).
 *
 * libext2fs reads the filesystem through an io_manager of our own that
 * reads the gk_reader (a partition, an LV, a qcow2 disk): the channel's
 * name carries the address of our struct gk_extfs, so nothing global is
 * needed.  The channel keeps a small cache of single blocks (inode
 * tables, directory and extent blocks), as unix_io does.
 *
 * libext2fs gives the metadata (inodes, directories, extent trees,
 * xattrs); where it differs from what the kernel shows, we do what the
 * kernel does:
 *
 * - stat: times with the kernel's epoch and nanosecond decoding, its
 *   st_blocks (huge_file, inline data), device numbers in both
 *   encodings, its test for fast symlinks (no blocks besides an xattr
 *   block, not inline);
 * - file contents: mapped once per open file into runs of contiguous
 *   blocks and read straight from the reader, one pread per run
 *   (ext2fs_file_read goes block by block);
 * - lookups: libext2fs scans a directory for each name (it does not use
 *   htree indexes), so each directory read is kept, hashed by name, in a
 *   small LRU cache: a readdir followed by a lookup of every entry reads
 *   the directory once;
 * - POSIX ACLs: ext4 stores them in a compact format that libext2fs
 *   converts with ids 0 where the kernel puts ACL_UNDEFINED_ID, and
 *   without the kernel's size checks: we convert the raw value as the
 *   kernel does;
 * - xattr names: only the namespaces the kernel lists (system.data, the
 *   inline data's attribute, is hidden).
 */
#include <config.h>

#include <ext2fs/ext2fs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <inttypes.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/sysmacros.h>

#include "fs-ext-files.h"
#include "fs.h"

/* Blocks kept by the channel's cache (a power of two). */
#define BCACHE_SLOTS 512
/* Directories kept by the lookup cache, and their entries in all. */
#define DCACHE_DIRS 64
#define DCACHE_ENTRIES (1U << 20)
/* As the kernel's MAXSYMLINKS. */
#define MAX_SYMLINKS 40
/* Entries stat'ed per lock by readdir. */
#define READDIR_BATCH 64

#define NAME_MAX_EXT 255

/* A directory as read once: its entries in on-disk order (with "." and
 * ".."), their names in one buffer, and a hash table over the names.
 */
struct dentry {
  uint32_t name;                /* offset in names */
  uint32_t ino;
  uint8_t len;
  uint8_t type;                 /* EXT2_FT_* */
};

struct dir {
  ext2_ino_t ino;
  unsigned refs;                /* the cache's and each user's */
  uint64_t used;                /* LRU clock */
  struct dentry *ents;
  size_t n, cap;
  char *names;
  size_t names_len, names_cap;
  uint32_t *hash;               /* entry index + 1, 0 for a free slot */
  size_t hash_mask;
};

struct bcache_slot {
  uint64_t block;
  bool valid;
};

struct gk_extfs {
  pthread_mutex_t lock;
  gk_h *h;
  const struct gk_reader *r;
  ext2_filsys e2fs;
  unsigned block_size;
  uint64_t blocks_count;
  unsigned inode_size;
  struct statvfs stv;

  /* The io channel's state. */
  bool io_failed;               /* the reader failed (handle's error set) */
  unsigned io_block_size;
  struct bcache_slot *bslots;
  unsigned char *bdata;         /* BCACHE_SLOTS * io_block_size */

  /* The directory cache. */
  struct dir *dirs[DCACHE_DIRS];
  size_t ndirs;
  size_t dir_entries;
  uint64_t clock;
};

/* A run of contiguous blocks of a file. */
struct run {
  uint64_t lblk, pblk;
  uint64_t len;
  bool uninit;
};

enum file_data {
  DATA_BLOCKS,                  /* blocks: mapped into runs */
  DATA_INLINE,                  /* inline data, or a fast symlink's */
  DATA_NONE,                    /* devices, fifos, sockets */
  DATA_DIR,                     /* read(2) says EISDIR */
};

struct gk_extfs_file {
  struct gk_extfs *fs;
  ext2_ino_t ino;
  struct ext2_inode_large inode;
  uint64_t size;
  enum file_data data;
  unsigned char *inline_data;
  size_t inline_len;
  bool mapped;
  struct run *runs;
  size_t nruns;
};

static void
lock (struct gk_extfs *fs)
{
  pthread_mutex_lock (&fs->lock);
}

static void
unlock (struct gk_extfs *fs)
{
  pthread_mutex_unlock (&fs->lock);
}

static void
cleanup_unlock (struct gk_extfs **fsp)
{
  if (*fsp)
    unlock (*fsp);
}
/* Lock fs until the end of the scope. */
#define LOCK_SCOPE(fs) \
  __attribute__ ((cleanup (cleanup_unlock))) struct gk_extfs *locked_ = \
    (lock (fs), (fs))

/* libext2fs's message for an error code (com_err's table, without
 * linking libcom_err).
 */
static const char *
ext2_strerror (errcode_t err)
{
  const struct error_table *et = &et_ext2_error_table;

  if (err >= et->base && err < et->base + et->n_msgs)
    return et->msgs[err - et->base];
  if (err > 0 && err < 4096)
    return strerror (err);
  return "unknown error";
}

/* A libext2fs error code as a negative errno, as the kernel would say
 * it: a bad checksum is EBADMSG (EFSBADCRC), corruption EIO.
 */
static int
neg_errno (errcode_t err)
{
  switch (err) {
  case 0: return 0;
  case EXT2_ET_NO_MEMORY: return -ENOMEM;
  case EXT2_ET_FILE_NOT_FOUND: return -ENOENT;
  case EXT2_ET_NO_DIRECTORY: return -ENOTDIR;
  case EXT2_ET_EA_KEY_NOT_FOUND: return -ENODATA;
  case EXT2_ET_INODE_CSUM_INVALID:
  case EXT2_ET_EXTENT_CSUM_INVALID:
  case EXT2_ET_DIR_CSUM_INVALID:
  case EXT2_ET_EXT_ATTR_CSUM_INVALID:
    return -EBADMSG;
  }
  if (err > 0 && err < 4096)
    return -(int) err;
  return -EIO;
}

/*----------------------------------------------------------------------
 * The io_manager: libext2fs reads the gk_reader.
 */

#define CHANNEL_PREFIX "guestkit-reader:"

static struct struct_io_manager reader_io_manager;

static errcode_t
io_open (const char *name, int flags, io_channel *channel_rtn)
{
  void *ptr = NULL;
  io_channel channel;

  if (strncmp (name, CHANNEL_PREFIX, strlen (CHANNEL_PREFIX)) != 0 ||
      sscanf (name + strlen (CHANNEL_PREFIX), "%p", &ptr) != 1 || !ptr)
    return EXT2_ET_BAD_DEVICE_NAME;
  if (flags & IO_FLAG_RW)
    return EROFS;
  channel = calloc (1, sizeof *channel);
  if (channel == NULL)
    return EXT2_ET_NO_MEMORY;
  channel->name = strdup (name);
  if (channel->name == NULL) {
    free (channel);
    return EXT2_ET_NO_MEMORY;
  }
  channel->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  channel->manager = &reader_io_manager;
  channel->block_size = 1024;
  channel->refcount = 1;
  channel->private_data = ptr;
  ((struct gk_extfs *) ptr)->io_block_size = 1024;
  *channel_rtn = channel;
  return 0;
}

static errcode_t
io_close (io_channel channel)
{
  if (--channel->refcount > 0)
    return 0;
  free (channel->name);
  free (channel);
  return 0;
}

static errcode_t
io_set_blksize (io_channel channel, int blksize)
{
  struct gk_extfs *fs = channel->private_data;
  size_t i;

  if (blksize <= 0)
    return EXT2_ET_INVALID_ARGUMENT;
  if ((unsigned) blksize != fs->io_block_size) {
    free (fs->bdata);
    fs->bdata = NULL;
    fs->io_block_size = blksize;
  }
  channel->block_size = blksize;
  if (fs->bslots)
    for (i = 0; i < BCACHE_SLOTS; ++i)
      fs->bslots[i].valid = false;
  return 0;
}

/* Read from the reader.  Reads beyond its end come from corrupt
 * pointers: an error for libext2fs, not for the handle.
 */
static errcode_t
io_pread (struct gk_extfs *fs, void *buf, uint64_t len, uint64_t offset)
{
  if (offset > fs->r->size || len > fs->r->size - offset)
    return EXT2_ET_SHORT_READ;
  if (gk_reader_pread (fs->h, fs->r, buf, len, offset) == -1) {
    fs->io_failed = true;
    return EIO;
  }
  return 0;
}

static errcode_t
io_read_blk64 (io_channel channel, unsigned long long block, int count,
               void *data)
{
  struct gk_extfs *fs = channel->private_data;
  uint64_t bs = fs->io_block_size, len;
  struct bcache_slot *slot;
  unsigned char *cached;
  errcode_t err;

  /* A negative count is a byte count. */
  len = count < 0 ? (uint64_t) -(int64_t) count : (uint64_t) count * bs;
  if (block > UINT64_MAX / bs)
    return EXT2_ET_SHORT_READ;
  if (count != 1)
    return io_pread (fs, data, len, block * bs);

  if (fs->bslots == NULL) {
    fs->bslots = calloc (BCACHE_SLOTS, sizeof *fs->bslots);
    if (fs->bslots == NULL)
      return EXT2_ET_NO_MEMORY;
  }
  if (fs->bdata == NULL) {
    size_t i;

    fs->bdata = malloc ((size_t) BCACHE_SLOTS * bs);
    if (fs->bdata == NULL)
      return EXT2_ET_NO_MEMORY;
    for (i = 0; i < BCACHE_SLOTS; ++i)
      fs->bslots[i].valid = false;
  }
  slot = &fs->bslots[block & (BCACHE_SLOTS - 1)];
  cached = fs->bdata + (size_t) (block & (BCACHE_SLOTS - 1)) * bs;
  if (!slot->valid || slot->block != block) {
    slot->valid = false;
    err = io_pread (fs, cached, bs, block * bs);
    if (err)
      return err;
    slot->block = block;
    slot->valid = true;
  }
  memcpy (data, cached, bs);
  return 0;
}

static errcode_t
io_read_blk (io_channel channel, unsigned long block, int count, void *data)
{
  return io_read_blk64 (channel, block, count, data);
}

static errcode_t
io_write_blk64 (io_channel channel, unsigned long long block, int count,
                const void *data)
{
  return EROFS;
}

static errcode_t
io_write_blk (io_channel channel, unsigned long block, int count,
              const void *data)
{
  return EROFS;
}

static errcode_t
io_write_byte (io_channel channel, unsigned long offset, int count,
               const void *data)
{
  return EROFS;
}

static errcode_t
io_discard (io_channel channel, unsigned long long block,
            unsigned long long count)
{
  return EROFS;
}

static errcode_t
io_flush (io_channel channel)
{
  return 0;
}

static struct struct_io_manager reader_io_manager = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "guestkit reader I/O manager",
  .open = io_open,
  .close = io_close,
  .set_blksize = io_set_blksize,
  .read_blk = io_read_blk,
  .write_blk = io_write_blk,
  .flush = io_flush,
  .write_byte = io_write_byte,
  .read_blk64 = io_read_blk64,
  .write_blk64 = io_write_blk64,
  .discard = io_discard,
  .zeroout = io_discard,
};

/*----------------------------------------------------------------------
 * Inodes as the kernel's ext4_iget reads them.
 */

static unsigned
extra_isize (const struct gk_extfs *fs, const struct ext2_inode_large *in)
{
  if (fs->inode_size <= EXT2_GOOD_OLD_INODE_SIZE)
    return 0;
  /* A large inode that says 0 gets the current size (ext4_iget). */
  if (in->i_extra_isize == 0)
    return sizeof (struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  return in->i_extra_isize;
}

static int
read_inode (struct gk_extfs *fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
  errcode_t err;

  memset (in, 0, sizeof *in);
  err = ext2fs_read_inode_full (fs->e2fs, ino, (struct ext2_inode *) in,
                                sizeof *in);
  if (err)
    return neg_errno (err);
  if (fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
      (EXT2_GOOD_OLD_INODE_SIZE + (unsigned) in->i_extra_isize > fs->inode_size ||
       (in->i_extra_isize & 3)))
    return -EIO;
  /* Unused or deleted (ext4_iget's ESTALE). */
  if (in->i_links_count == 0)
    return -ESTALE;
  return 0;
}

static bool
has_inline_data (const struct ext2_inode_large *in)
{
  return in->i_flags & EXT4_INLINE_DATA_FL;
}

/* i_blocks in 512-byte units, as ext4_inode_blocks. */
static uint64_t
inode_blocks (const struct gk_extfs *fs, const struct ext2_inode_large *in)
{
  uint64_t b = in->i_blocks;

  if (ext2fs_has_feature_huge_file (fs->e2fs->super)) {
    b |= (uint64_t) in->osd2.linux2.l_i_blocks_hi << 32;
    if (in->i_flags & EXT4_HUGE_FILE_FL)
      b <<= fs->e2fs->super->s_log_block_size + 1;
  }
  return b;
}

/* ext4_inode_is_fast_symlink: no blocks but an xattr block's, and no
 * inline data.
 */
static bool
is_fast_symlink (const struct gk_extfs *fs, const struct ext2_inode_large *in)
{
  uint64_t ea_blocks = 0;

  if (!LINUX_S_ISLNK (in->i_mode) || has_inline_data (in))
    return false;
  if (in->i_flags & EXT4_EA_INODE_FL)
    return EXT2_I_SIZE (in) > 0 && EXT2_I_SIZE (in) < sizeof in->i_block;
  if (ext2fs_file_acl_block (fs->e2fs, (const struct ext2_inode *) in))
    ea_blocks = EXT2_CLUSTER_SIZE (fs->e2fs->super) >> 9;
  return inode_blocks (fs, in) == ea_blocks;
}

/* The kernel's timestamp: a signed 32-bit count of seconds, extended by
 * the two epoch bits of the extra field, with its nanoseconds, if the
 * field (ending at extra_end in the inode) fits in the inode's extra
 * part.
 */
static void
decode_time (struct timespec *ts, uint32_t base, uint32_t extra,
             size_t extra_end, unsigned isize)
{
  ts->tv_sec = (int32_t) base;
  ts->tv_nsec = 0;
  if (extra_end <= EXT2_GOOD_OLD_INODE_SIZE + isize) {
    if (extra & EXT4_EPOCH_MASK)
      ts->tv_sec += (int64_t) (extra & EXT4_EPOCH_MASK) << 32;
    ts->tv_nsec = extra >> EXT4_EPOCH_BITS;
  }
}

static void
inode_to_stat (const struct gk_extfs *fs, ext2_ino_t ino,
               const struct ext2_inode_large *in, struct stat *st)
{
  unsigned isize = extra_isize (fs, in);

  memset (st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_mode = in->i_mode;
  st->st_nlink = in->i_links_count;
  st->st_uid = inode_uid (*in);
  st->st_gid = inode_gid (*in);
  st->st_size = EXT2_I_SIZE (in);
  st->st_blksize = fs->block_size;
  st->st_blocks = inode_blocks (fs, in);
  /* ext4_file_getattr: an inline regular file shows its bytes. */
  if (LINUX_S_ISREG (in->i_mode) && has_inline_data (in))
    st->st_blocks += (EXT2_I_SIZE (in) + 511) >> 9;
  if (LINUX_S_ISCHR (in->i_mode) || LINUX_S_ISBLK (in->i_mode)) {
    uint32_t old = in->i_block[0], new = in->i_block[1];

    if (old)
      st->st_rdev = makedev ((old >> 8) & 255, old & 255);
    else
      st->st_rdev = makedev ((new & 0xfff00) >> 8,
                             (new & 0xff) | ((new >> 12) & 0xfff00));
  }
#define TIME(ts, f) \
  decode_time (ts, in->i_##f, in->i_##f##_extra, \
               offsetof (struct ext2_inode_large, i_##f##_extra) + 4, isize)
  TIME (&st->st_atim, atime);
  TIME (&st->st_mtim, mtime);
  TIME (&st->st_ctim, ctime);
#undef TIME
}

/*----------------------------------------------------------------------
 * Directories, read whole and cached (see the top of the file).
 */

static uint32_t
name_hash (const char *name, size_t len)
{
  uint32_t hash = 2166136261U;  /* FNV-1a */
  size_t i;

  for (i = 0; i < len; ++i)
    hash = (hash ^ (unsigned char) name[i]) * 16777619U;
  return hash;
}

static void
free_dir (struct dir *d)
{
  if (d) {
    free (d->ents);
    free (d->names);
    free (d->hash);
    free (d);
  }
}

static void
put_dir (struct dir *d)
{
  if (d && --d->refs == 0)
    free_dir (d);
}

struct load_dir {
  struct dir *d;
  bool enomem;
};

static int
load_dir_entry (ext2_ino_t dir_ino, int entry, struct ext2_dir_entry *dirent,
                int offset, int blocksize, char *buf, void *priv)
{
  struct load_dir *ld = priv;
  struct dir *d = ld->d;
  size_t len = ext2fs_dirent_name_len (dirent);

  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    struct dentry *ents = realloc (d->ents, cap * sizeof *ents);

    if (ents == NULL || cap > UINT32_MAX / 2)
      goto enomem;
    d->ents = ents;
    d->cap = cap;
  }
  if (d->names_len + len + 1 > d->names_cap) {
    size_t cap = d->names_cap ? d->names_cap * 2 : 1024;
    char *names;

    while (cap < d->names_len + len + 1)
      cap *= 2;
    if (cap > UINT32_MAX)
      goto enomem;
    names = realloc (d->names, cap);
    if (names == NULL)
      goto enomem;
    d->names = names;
    d->names_cap = cap;
  }
  memcpy (d->names + d->names_len, dirent->name, len);
  d->names[d->names_len + len] = '\0';
  d->ents[d->n].name = d->names_len;
  d->ents[d->n].len = len;
  d->ents[d->n].ino = dirent->inode;
  d->ents[d->n].type = ext2fs_dirent_file_type (dirent);
  d->n++;
  d->names_len += len + 1;
  return 0;

 enomem:
  ld->enomem = true;
  return DIRENT_ABORT;
}

/* Read directory ino (whose inode is in) into a new struct dir. */
static int
load_dir (struct gk_extfs *fs, ext2_ino_t ino, struct dir **d_rtn)
{
  struct load_dir ld = { 0 };
  errcode_t err;
  size_t i, size;

  ld.d = calloc (1, sizeof *ld.d);
  if (ld.d == NULL)
    return -ENOMEM;
  ld.d->ino = ino;
  ld.d->refs = 1;
  err = ext2fs_dir_iterate2 (fs->e2fs, ino, 0, NULL, load_dir_entry, &ld);
  if (ld.enomem || err) {
    free_dir (ld.d);
    return ld.enomem ? -ENOMEM : neg_errno (err);
  }
  for (size = 16; size < ld.d->n * 2; size *= 2)
    ;
  ld.d->hash = calloc (size, sizeof *ld.d->hash);
  if (ld.d->hash == NULL) {
    free_dir (ld.d);
    return -ENOMEM;
  }
  ld.d->hash_mask = size - 1;
  for (i = 0; i < ld.d->n; ++i) {
    const struct dentry *e = &ld.d->ents[i];
    size_t slot = name_hash (ld.d->names + e->name, e->len) & ld.d->hash_mask;

    while (ld.d->hash[slot])
      slot = (slot + 1) & ld.d->hash_mask;
    ld.d->hash[slot] = i + 1;
  }
  *d_rtn = ld.d;
  return 0;
}

static void
evict_dir (struct gk_extfs *fs, size_t i)
{
  struct dir *d = fs->dirs[i];

  fs->dir_entries -= d->n;
  fs->dirs[i] = fs->dirs[--fs->ndirs];
  put_dir (d);
}

/* The directory ino, from the cache or read now: the caller holds a
 * reference (put_dir).
 */
static int
get_dir (struct gk_extfs *fs, ext2_ino_t ino, struct dir **d_rtn)
{
  struct dir *d = NULL;
  size_t i;
  int ret;

  for (i = 0; i < fs->ndirs; ++i)
    if (fs->dirs[i]->ino == ino) {
      d = fs->dirs[i];
      d->used = ++fs->clock;
      d->refs++;
      *d_rtn = d;
      return 0;
    }
  ret = load_dir (fs, ino, &d);
  if (ret < 0)
    return ret;
  /* Too big to keep: this caller's only. */
  if (d->n > DCACHE_ENTRIES) {
    *d_rtn = d;
    return 0;
  }
  while (fs->ndirs > 0 &&
         (fs->ndirs == DCACHE_DIRS || fs->dir_entries + d->n > DCACHE_ENTRIES)) {
    size_t lru = 0;

    for (i = 1; i < fs->ndirs; ++i)
      if (fs->dirs[i]->used < fs->dirs[lru]->used)
        lru = i;
    evict_dir (fs, lru);
  }
  d->used = ++fs->clock;
  d->refs++;
  fs->dirs[fs->ndirs++] = d;
  fs->dir_entries += d->n;
  *d_rtn = d;
  return 0;
}

static int
dir_lookup (struct gk_extfs *fs, ext2_ino_t dir, const char *name, size_t len,
            ext2_ino_t *ino_rtn)
{
  struct dir *d;
  size_t slot;
  int ret;

  ret = get_dir (fs, dir, &d);
  if (ret < 0)
    return ret;
  ret = -ENOENT;
  for (slot = name_hash (name, len) & d->hash_mask; d->hash[slot];
       slot = (slot + 1) & d->hash_mask) {
    const struct dentry *e = &d->ents[d->hash[slot] - 1];

    if (e->len == len && memcmp (d->names + e->name, name, len) == 0) {
      *ino_rtn = e->ino;
      ret = 0;
      break;
    }
  }
  put_dir (d);
  return ret;
}

/*----------------------------------------------------------------------
 * File contents.
 */

static void
file_free (struct gk_extfs_file *f)
{
  free (f->inline_data);
  free (f->runs);
}

/* Set up f to read inode ino (its inode is in). */
static int
file_init (struct gk_extfs *fs, ext2_ino_t ino,
           const struct ext2_inode_large *in, struct gk_extfs_file *f)
{
  memset (f, 0, sizeof *f);
  f->fs = fs;
  f->ino = ino;
  f->inode = *in;
  f->size = EXT2_I_SIZE (in);
  if (LINUX_S_ISDIR (in->i_mode))
    f->data = DATA_DIR;
  else if (!LINUX_S_ISREG (in->i_mode) && !LINUX_S_ISLNK (in->i_mode))
    f->data = DATA_NONE;
  else if (has_inline_data (in)) {
    size_t len;
    errcode_t err;

    f->data = DATA_INLINE;
    err = ext2fs_inline_data_size (fs->e2fs, ino, &len);
    if (err)
      return neg_errno (err);
    f->inline_data = malloc (len);
    if (f->inline_data == NULL)
      return -ENOMEM;
    err = ext2fs_inline_data_get (fs->e2fs, ino, (struct ext2_inode *) &f->inode,
                                  f->inline_data, &len);
    if (err) {
      file_free (f);
      return neg_errno (err);
    }
    f->inline_len = len;
  }
  else if (is_fast_symlink (fs, in)) {
    f->data = DATA_INLINE;
    f->inline_len = sizeof in->i_block;
    f->inline_data = malloc (f->inline_len);
    if (f->inline_data == NULL)
      return -ENOMEM;
    memcpy (f->inline_data, in->i_block, f->inline_len);
  }
  else
    f->data = DATA_BLOCKS;
  return 0;
}

/* Append a run (merging it with the last one when contiguous). */
static int
add_run (struct gk_extfs_file *f, size_t *cap, uint64_t lblk, uint64_t pblk,
         uint64_t len, bool uninit)
{
  struct gk_extfs *fs = f->fs;
  struct run *last = f->nruns ? &f->runs[f->nruns - 1] : NULL;

  if (len == 0)
    return 0;
  /* Out of order, overlapping, or outside the filesystem: corrupt. */
  if ((last && lblk < last->lblk + last->len) ||
      pblk < fs->e2fs->super->s_first_data_block ||
      pblk >= fs->blocks_count || len > fs->blocks_count - pblk)
    return -EIO;
  if (last && last->lblk + last->len == lblk &&
      last->pblk + last->len == pblk && last->uninit == uninit) {
    last->len += len;
    return 0;
  }
  if (f->nruns == *cap) {
    size_t n = *cap ? *cap * 2 : 16;
    struct run *runs = realloc (f->runs, n * sizeof *runs);

    if (runs == NULL)
      return -ENOMEM;
    f->runs = runs;
    *cap = n;
  }
  f->runs[f->nruns++] = (struct run) {
    .lblk = lblk, .pblk = pblk, .len = len, .uninit = uninit
  };
  return 0;
}

struct map_blocks {
  struct gk_extfs_file *f;
  size_t cap;
  int ret;
};

static int
map_block (ext2_filsys e2fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
           blk64_t ref_blk, int ref_offset, void *priv)
{
  struct map_blocks *mb = priv;

  if (blockcnt < 0)
    return 0;
  mb->ret = add_run (mb->f, &mb->cap, blockcnt, *blocknr, 1, false);
  return mb->ret < 0 ? BLOCK_ABORT : 0;
}

/* Map the file's blocks into runs: its extents, or its block map. */
static int
file_map (struct gk_extfs_file *f)
{
  struct gk_extfs *fs = f->fs;
  size_t cap = 0;
  errcode_t err;
  int ret = 0;

  if (f->inode.i_flags & EXT4_EXTENTS_FL) {
    ext2_extent_handle_t eh;
    struct ext2fs_extent ex;

    err = ext2fs_extent_open2 (fs->e2fs, f->ino, (struct ext2_inode *) &f->inode,
                               &eh);
    if (err)
      return neg_errno (err);
    /* A walk of the whole tree, each leaf entry once. */
    for (err = ext2fs_extent_get (eh, EXT2_EXTENT_ROOT, &ex); err == 0;
         err = ext2fs_extent_get (eh, EXT2_EXTENT_NEXT, &ex)) {
      if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
          (ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
        continue;
      ret = add_run (f, &cap, ex.e_lblk, ex.e_pblk, ex.e_len,
                     ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT);
      if (ret < 0)
        break;
    }
    ext2fs_extent_free (eh);
    if (ret == 0 && err != EXT2_ET_EXTENT_NO_NEXT)
      ret = neg_errno (err);
  }
  else {
    struct map_blocks mb = { .f = f };

    err = ext2fs_block_iterate3 (fs->e2fs, f->ino,
                                 BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
                                 NULL, map_block, &mb);
    ret = mb.ret < 0 ? mb.ret : neg_errno (err);
  }
  if (ret < 0) {
    free (f->runs);
    f->runs = NULL;
    f->nruns = 0;
    return ret;
  }
  f->mapped = true;
  return 0;
}

/* The first run that ends after logical block lblk. */
static size_t
find_run (const struct gk_extfs_file *f, uint64_t lblk)
{
  size_t lo = 0, hi = f->nruns;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (f->runs[mid].lblk + f->runs[mid].len <= lblk)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* pread under the lock. */
static ssize_t
file_pread (struct gk_extfs_file *f, void *buf, size_t count, uint64_t offset)
{
  struct gk_extfs *fs = f->fs;
  const uint64_t bs = fs->block_size;
  unsigned char *out = buf;
  uint64_t pos, end;
  size_t i;
  int ret;

  if (f->data == DATA_DIR)
    return -EISDIR;
  if (f->data == DATA_NONE || offset >= f->size)
    return 0;
  if (count > SSIZE_MAX)
    count = SSIZE_MAX;
  if (count > f->size - offset)
    count = f->size - offset;

  if (f->data == DATA_INLINE) {
    size_t n = 0;

    if (offset < f->inline_len) {
      n = f->inline_len - offset < count ? f->inline_len - offset : count;
      memcpy (out, f->inline_data + offset, n);
    }
    memset (out + n, 0, count - n);
    return count;
  }

  if (!f->mapped) {
    ret = file_map (f);
    if (ret < 0)
      return ret;
  }
  end = offset + count;
  i = find_run (f, offset / bs);
  for (pos = offset; pos < end; ) {
    const struct run *run = i < f->nruns ? &f->runs[i] : NULL;
    uint64_t lblk = pos / bs, n;

    if (run == NULL || run->lblk > lblk) {
      /* A hole, up to the next run. */
      uint64_t next = run ? run->lblk * bs : end;

      n = (next < end ? next : end) - pos;
      memset (out, 0, n);
    }
    else {
      uint64_t run_end = (run->lblk + run->len) * bs;

      n = (run_end < end ? run_end : end) - pos;
      if (run->uninit)
        memset (out, 0, n);
      else if (io_pread (fs, out, n,
                         (run->pblk + lblk - run->lblk) * bs + pos % bs))
        return -EIO;
      i++;
    }
    out += n;
    pos += n;
  }
  return count;
}

/* A symlink's target as readlink(2) gives it (ext4_get_link): at most
 * the inode's size, up to the first NUL, cut at 59 bytes for a fast
 * link and a block less one byte for a slow one.
 */
static int
symlink_target (struct gk_extfs *fs, ext2_ino_t ino,
                const struct ext2_inode_large *in, char **target_rtn)
{
  struct gk_extfs_file f;
  uint64_t max = in->i_size;    /* ext4 symlinks are < 4 GB */
  char *target;
  ssize_t n;
  int ret;

  if (!LINUX_S_ISLNK (in->i_mode))
    return -EINVAL;
  ret = file_init (fs, ino, in, &f);
  if (ret < 0)
    return ret;
  if (is_fast_symlink (fs, in)) {
    if (max > sizeof in->i_block - 1)
      max = sizeof in->i_block - 1;
  }
  else if (max > fs->block_size - 1)
    max = fs->block_size - 1;
  target = malloc (max + 1);
  if (target == NULL) {
    file_free (&f);
    return -ENOMEM;
  }
  n = file_pread (&f, target, max, 0);
  file_free (&f);
  if (n < 0) {
    free (target);
    return n;
  }
  target[n] = '\0';
  *target_rtn = target;
  return 0;
}

/*----------------------------------------------------------------------
 * Paths.
 */

/* The inode a path names, without following a final symlink (but, as
 * the kernel, a final component followed by a slash must be a
 * directory, and a symlink there is followed).
 */
static int
resolve (struct gk_extfs *fs, const char *path, ext2_ino_t *ino_rtn,
         struct ext2_inode_large *in)
{
  CLEANUP_FREE char *work = NULL;
  ext2_ino_t cur = EXT2_ROOT_INO, next;
  struct ext2_inode_large next_in;
  const char *p = path;
  unsigned links = 0;
  bool must_dir = false;
  int ret;

  /* As the kernel's getname. */
  if (strnlen (path, PATH_MAX) == PATH_MAX)
    return -ENAMETOOLONG;
  ret = read_inode (fs, cur, in);
  if (ret < 0)
    return ret;
  for (;;) {
    const char *end, *after;
    size_t len;

    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    end = strchrnul (p, '/');
    len = end - p;
    if (len > NAME_MAX_EXT)
      return -ENAMETOOLONG;
    if (!LINUX_S_ISDIR (in->i_mode))
      return -ENOTDIR;
    must_dir = *end == '/';
    if (len == 1 && p[0] == '.') {
      p = end;
      continue;
    }
    ret = dir_lookup (fs, cur, p, len, &next);
    if (ret < 0)
      return ret;
    ret = read_inode (fs, next, &next_in);
    if (ret < 0)
      return ret;
    for (after = end; *after == '/'; ++after)
      ;
    if (LINUX_S_ISLNK (next_in.i_mode) && must_dir) {
      CLEANUP_FREE char *target = NULL;
      char *rest;

      /* A symlink in the middle: go on from its target. */
      if (++links > MAX_SYMLINKS)
        return -ELOOP;
      ret = symlink_target (fs, next, &next_in, &target);
      if (ret < 0)
        return ret;
      if (*target == '\0')
        return -ENOENT;
      if (asprintf (&rest, "%s/%s", target, after) == -1)
        return -ENOMEM;
      free (work);
      work = rest;
      p = work;
      if (*target == '/') {
        cur = EXT2_ROOT_INO;
        ret = read_inode (fs, cur, in);
        if (ret < 0)
          return ret;
      }
      continue;
    }
    cur = next;
    *in = next_in;
    p = end;
  }
  if (must_dir && !LINUX_S_ISDIR (in->i_mode))
    return -ENOTDIR;
  *ino_rtn = cur;
  return 0;
}

/*----------------------------------------------------------------------
 * Open and close.
 */

int
gk_extfs_open (gk_h *h, const struct gk_reader *r, struct gk_extfs **fs_rtn,
               char **why_rtn)
{
  struct gk_extfs *fs;
  struct gk_statvfs gst;
  struct ext2_super_block *sb;
  struct ext2_inode_large root;
  char name[64];
  errcode_t err;
  int ret;

  /* Everything the kernel's mount checks, or would change (a journal
   * to replay, orphans to clean up), the statvfs parser checks.
   */
  ret = gk_native_ext_statvfs (h, r, &gst, why_rtn);
  if (ret != 0)
    return ret;

  fs = calloc (1, sizeof *fs);
  if (fs == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  pthread_mutex_init (&fs->lock, NULL);
  fs->h = h;
  fs->r = r;
  fs->stv.f_bsize = gst.bsize;
  fs->stv.f_frsize = gst.frsize;
  fs->stv.f_blocks = gst.blocks;
  fs->stv.f_bfree = gst.bfree;
  fs->stv.f_bavail = gst.bavail;
  fs->stv.f_files = gst.files;
  fs->stv.f_ffree = gst.ffree;
  fs->stv.f_favail = gst.favail;
  fs->stv.f_fsid = gst.fsid;
  fs->stv.f_flag = gst.flag;
  fs->stv.f_namemax = gst.namemax;

  snprintf (name, sizeof name, CHANNEL_PREFIX "%p", (void *) fs);
  err = ext2fs_open2 (name, NULL, EXT2_FLAG_64BITS, 0, 0, &reader_io_manager,
                      &fs->e2fs);
  if (err) {
    bool io_failed = fs->io_failed;

    fs->e2fs = NULL;
    gk_extfs_close (fs);
    if (io_failed)
      return -1;
    return gk_int_native_unsure (h, why_rtn, "%s: ext: libext2fs: %s",
                                 r->name, ext2_strerror (err));
  }
  sb = fs->e2fs->super;
  fs->block_size = fs->e2fs->blocksize;
  fs->blocks_count = ext2fs_blocks_count (sb);
  fs->inode_size = EXT2_INODE_SIZE (sb);

  /* What libext2fs would not read as the kernel does. */
  if (sb->s_feature_incompat & ~EXT2_LIB_FEATURE_INCOMPAT_SUPP ||
      sb->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP)
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: features libext2fs "
                                "does not know", r->name);
  else if (ext2fs_has_feature_journal_needs_recovery (sb))
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: the journal needs "
                                "recovery (the mount replays it)", r->name);
  else if (ext2fs_has_feature_journal_dev (sb))
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: a journal device",
                                r->name);
  else if (ext2fs_has_feature_encrypt (sb))
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: encryption", r->name);
  else if (ext2fs_has_feature_casefold (sb))
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: case-insensitive "
                                "directories", r->name);
  else if (ext2fs_has_feature_orphan_present (sb) || sb->s_last_orphan)
    ret = gk_int_native_unsure (h, why_rtn, "%s: ext: orphan inodes (the "
                                "mount cleans them up)", r->name);
  if (ret != 0) {
    gk_extfs_close (fs);
    return ret;
  }

  ret = read_inode (fs, EXT2_ROOT_INO, &root);
  if (ret == 0 && !LINUX_S_ISDIR (root.i_mode))
    ret = -ENOTDIR;
  if (ret < 0) {
    bool io_failed = fs->io_failed;

    gk_extfs_close (fs);
    if (io_failed)
      return -1;
    return gk_int_native_unsure (h, why_rtn, "%s: ext: the root directory: %s",
                                 r->name, strerror (-ret));
  }
  *fs_rtn = fs;
  return 0;
}

void
gk_extfs_close (struct gk_extfs *fs)
{
  if (fs == NULL)
    return;
  while (fs->ndirs > 0)
    evict_dir (fs, fs->ndirs - 1);
  if (fs->e2fs)
    ext2fs_close_free (&fs->e2fs);
  free (fs->bslots);
  free (fs->bdata);
  pthread_mutex_destroy (&fs->lock);
  free (fs);
}

/*----------------------------------------------------------------------
 * The calls.
 */

int
gk_extfs_lstat (struct gk_extfs *fs, const char *path, struct stat *st)
{
  LOCK_SCOPE (fs);
  struct ext2_inode_large in;
  ext2_ino_t ino;
  int ret;

  ret = resolve (fs, path, &ino, &in);
  if (ret < 0)
    return ret;
  inode_to_stat (fs, ino, &in, st);
  return 0;
}

/* One readdir entry with its stat. */
struct rd_entry {
  const char *name;
  struct stat st;
};

int
gk_extfs_readdir (struct gk_extfs *fs, const char *path,
                  int (*cb) (void *opaque, const char *name,
                             const struct stat *st),
                  void *opaque)
{
  struct rd_entry batch[READDIR_BATCH];
  struct ext2_inode_large in;
  struct dir *d = NULL;
  ext2_ino_t ino;
  size_t i = 0, n, j;
  int ret;

  lock (fs);
  ret = resolve (fs, path, &ino, &in);
  if (ret == 0 && !LINUX_S_ISDIR (in.i_mode))
    ret = -ENOTDIR;
  if (ret == 0)
    ret = get_dir (fs, ino, &d);
  unlock (fs);
  if (ret < 0)
    return ret;

  /* Stat a batch under the lock, then call cb without it. */
  while (ret == 0 && i < d->n) {
    lock (fs);
    for (n = 0; n < READDIR_BATCH && i < d->n; ++i) {
      const struct dentry *e = &d->ents[i];
      const char *name = d->names + e->name;
      struct ext2_inode_large ein;

      if ((e->len == 1 && name[0] == '.') ||
          (e->len == 2 && name[0] == '.' && name[1] == '.'))
        continue;
      batch[n].name = name;
      if (read_inode (fs, e->ino, &ein) == 0)
        inode_to_stat (fs, e->ino, &ein, &batch[n].st);
      else {
        static const mode_t types[] = {
          [EXT2_FT_REG_FILE] = S_IFREG, [EXT2_FT_DIR] = S_IFDIR,
          [EXT2_FT_CHRDEV] = S_IFCHR, [EXT2_FT_BLKDEV] = S_IFBLK,
          [EXT2_FT_FIFO] = S_IFIFO, [EXT2_FT_SOCK] = S_IFSOCK,
          [EXT2_FT_SYMLINK] = S_IFLNK,
        };

        memset (&batch[n].st, 0, sizeof batch[n].st);
        batch[n].st.st_ino = e->ino;
        if (e->type < sizeof types / sizeof types[0])
          batch[n].st.st_mode = types[e->type];
      }
      n++;
    }
    unlock (fs);
    for (j = 0; j < n && ret == 0; ++j)
      ret = cb (opaque, batch[j].name, &batch[j].st);
  }

  lock (fs);
  put_dir (d);
  unlock (fs);
  return ret;
}

int
gk_extfs_readlink (struct gk_extfs *fs, const char *path, char **target_rtn)
{
  LOCK_SCOPE (fs);
  struct ext2_inode_large in;
  ext2_ino_t ino;
  int ret;

  ret = resolve (fs, path, &ino, &in);
  if (ret < 0)
    return ret;
  return symlink_target (fs, ino, &in, target_rtn);
}

int
gk_extfs_open_file (struct gk_extfs *fs, const char *path,
                    struct gk_extfs_file **f_rtn)
{
  LOCK_SCOPE (fs);
  struct ext2_inode_large in;
  struct gk_extfs_file *f;
  ext2_ino_t ino;
  int ret;

  ret = resolve (fs, path, &ino, &in);
  if (ret < 0)
    return ret;
  f = malloc (sizeof *f);
  if (f == NULL)
    return -ENOMEM;
  ret = file_init (fs, ino, &in, f);
  if (ret < 0) {
    free (f);
    return ret;
  }
  *f_rtn = f;
  return 0;
}

ssize_t
gk_extfs_pread (struct gk_extfs_file *f, void *buf, size_t count,
                uint64_t offset)
{
  LOCK_SCOPE (f->fs);

  return file_pread (f, buf, count, offset);
}

int
gk_extfs_fstat (struct gk_extfs_file *f, struct stat *st)
{
  inode_to_stat (f->fs, f->ino, &f->inode, st);
  return 0;
}

void
gk_extfs_close_file (struct gk_extfs_file *f)
{
  if (f) {
    file_free (f);
    free (f);
  }
}

int
gk_extfs_statvfs (struct gk_extfs *fs, struct statvfs *st)
{
  *st = fs->stv;
  return 0;
}

/*----------------------------------------------------------------------
 * Extended attributes.
 */

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"

/* The names the kernel's ext4 has a handler for (ext4_xattr_handler_map:
 * user, trusted, security, gnu (the Hurd's), the two POSIX ACLs).
 */
static bool
visible_xattr (const char *name)
{
  return strncmp (name, "user.", 5) == 0 ||
    strncmp (name, "trusted.", 8) == 0 ||
    strncmp (name, "security.", 9) == 0 ||
    strncmp (name, "gnu.", 4) == 0 ||
    strcmp (name, ACL_ACCESS) == 0 || strcmp (name, ACL_DEFAULT) == 0;
}

static void
cleanup_xattrs (struct ext2_xattr_handle **xh)
{
  if (*xh)
    ext2fs_xattrs_close (xh);
}

/* Read the xattrs of the inode path names (raw values); *xh_rtn is NULL
 * when the filesystem has none at all.
 */
static int
read_xattrs (struct gk_extfs *fs, const char *path,
             struct ext2_xattr_handle **xh_rtn)
{
  struct ext2_xattr_handle *xh;
  struct ext2_inode_large in;
  unsigned int flags = XATTR_HANDLE_FLAG_RAW;
  ext2_ino_t ino;
  errcode_t err;
  int ret;

  *xh_rtn = NULL;
  ret = resolve (fs, path, &ino, &in);
  if (ret < 0)
    return ret;
  err = ext2fs_xattrs_open (fs->e2fs, ino, &xh);
  if (err == EXT2_ET_MISSING_EA_FEATURE)
    return 0;
  if (err)
    return neg_errno (err);
  err = ext2fs_xattrs_flags (xh, &flags, NULL);
  if (err == 0)
    err = ext2fs_xattrs_read (xh);
  if (err) {
    ext2fs_xattrs_close (&xh);
    return neg_errno (err);
  }
  *xh_rtn = xh;
  return 0;
}

struct list_xattrs {
  char *names;
  size_t len;
  bool enomem;
};

static int
list_xattr (char *name, char *value, size_t value_len, void *priv)
{
  struct list_xattrs *lx = priv;
  size_t n = strlen (name) + 1;
  char *names;

  if (!visible_xattr (name))
    return 0;
  names = realloc (lx->names, lx->len + n);
  if (names == NULL) {
    lx->enomem = true;
    return XATTR_ABORT;
  }
  memcpy (names + lx->len, name, n);
  lx->names = names;
  lx->len += n;
  return 0;
}

int
gk_extfs_listxattr (struct gk_extfs *fs, const char *path, char **names_rtn,
                    size_t *len_rtn)
{
  LOCK_SCOPE (fs);
  __attribute__ ((cleanup (cleanup_xattrs))) struct ext2_xattr_handle *xh = NULL;
  struct list_xattrs lx = { 0 };
  errcode_t err;
  int ret;

  ret = read_xattrs (fs, path, &xh);
  if (ret < 0)
    return ret;
  if (xh) {
    err = ext2fs_xattrs_iterate (xh, list_xattr, &lx);
    if (lx.enomem || err) {
      free (lx.names);
      return lx.enomem ? -ENOMEM : neg_errno (err);
    }
  }
  *names_rtn = lx.names;
  *len_rtn = lx.len;
  return 0;
}

static uint16_t le16 (const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}
static void
put_le16 (unsigned char *p, uint16_t v)
{
  p[0] = v;
  p[1] = v >> 8;
}
static void
put_le32 (unsigned char *p, uint32_t v)
{
  put_le16 (p, v);
  put_le16 (p + 2, v >> 16);
}

/* ext4's on-disk ACL (ext4_acl_from_disk) to the xattr format
 * (posix_acl_to_xattr): version 2, then 8 bytes per entry, the id
 * ACL_UNDEFINED_ID (-1) for entries without one.  An empty ACL is no
 * ACL (-ENODATA); a malformed one -EINVAL.
 */
#define EXT4_ACL_VERSION 1
#define POSIX_ACL_XATTR_VERSION 2
#define ACL_USER_OBJ  0x01
#define ACL_USER      0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP     0x08
#define ACL_MASK      0x10
#define ACL_OTHER     0x20

static int
acl_to_xattr (const unsigned char *v, size_t len, void **value_rtn,
              size_t *len_rtn)
{
  const unsigned char *end = v + len;
  unsigned char *out, *o;
  size_t count, body;

  if (len < 4 || le32 (v) != EXT4_ACL_VERSION)
    return -EINVAL;
  /* ext4_acl_count: the four short entries first. */
  body = len - 4;
  if (body < 4 * 4) {
    if (body % 4)
      return -EINVAL;
    count = body / 4;
  }
  else {
    if ((body - 4 * 4) % 8)
      return -EINVAL;
    count = (body - 4 * 4) / 8 + 4;
  }
  if (count == 0)
    return -ENODATA;
  out = malloc (4 + count * 8);
  if (out == NULL)
    return -ENOMEM;
  put_le32 (out, POSIX_ACL_XATTR_VERSION);
  o = out + 4;
  for (v += 4; count > 0; --count, o += 8) {
    uint16_t tag;
    uint32_t id;

    if (end - v < 4)
      goto einval;
    tag = le16 (v);
    put_le16 (o, tag);
    put_le16 (o + 2, le16 (v + 2));
    switch (tag) {
    case ACL_USER_OBJ: case ACL_GROUP_OBJ: case ACL_MASK: case ACL_OTHER:
      id = UINT32_MAX;
      v += 4;
      break;
    case ACL_USER: case ACL_GROUP:
      if (end - v < 8)
        goto einval;
      id = le32 (v + 4);
      v += 8;
      break;
    default:
      goto einval;
    }
    put_le32 (o + 4, id);
  }
  if (v != end)
    goto einval;
  *value_rtn = out;
  *len_rtn = o - out;
  return 0;

 einval:
  free (out);
  return -EINVAL;
}

int
gk_extfs_getxattr (struct gk_extfs *fs, const char *path, const char *name,
                   void **value_rtn, size_t *len_rtn)
{
  LOCK_SCOPE (fs);
  __attribute__ ((cleanup (cleanup_xattrs))) struct ext2_xattr_handle *xh = NULL;
  void *value = NULL;
  size_t len = 0;
  errcode_t err;
  int ret;

  if (!visible_xattr (name))
    return -EOPNOTSUPP;
  ret = read_xattrs (fs, path, &xh);
  if (ret < 0)
    return ret;
  if (xh == NULL)
    return -ENODATA;
  err = ext2fs_xattr_get (xh, name, &value, &len);
  if (err)
    return neg_errno (err);
  if (strcmp (name, ACL_ACCESS) == 0 || strcmp (name, ACL_DEFAULT) == 0) {
    ret = acl_to_xattr (value, len, value_rtn, len_rtn);
    ext2fs_free_mem (&value);
    return ret;
  }
  /* Ours to free with free(3), never NULL. */
  *value_rtn = malloc (len ? len : 1);
  if (*value_rtn == NULL) {
    ext2fs_free_mem (&value);
    return -ENOMEM;
  }
  memcpy (*value_rtn, value, len);
  ext2fs_free_mem (&value);
  *len_rtn = len;
  return 0;
}
