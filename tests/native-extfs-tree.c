/* The native engine's ext2/3/4 file reader on the command line, for
 * tests/test-native-extfs.sh (compared with the host kernel's view of
 * the same image mounted read-only).
 *
 *   native-extfs-tree [-c CHUNK] IMAGE [OFFSET]
 *     walks the whole tree (readdir, and lstat of each path, which must
 *     agree) and prints one line per inode, sorted by path:
 *       PATH ino= mode= uid= gid= size= nlink= blocks= blksize= rdev=
 *       atime= mtime= ctime= [target=HEX | data=CRC32ADLER32] [xattr NAME=HEX]...
 *     contents (their first 64 MiB) read with CHUNK-byte requests
 *     (default 1 MiB), directories naming an ancestor not followed;
 *   native-extfs-tree -p PATH... IMAGE [OFFSET]
 *     for each PATH: what lstat, readlink, readdir and getxattr
 *     ("user.none") give, as errno names ("PATH lstat=ENOENT ...");
 *   native-extfs-tree -b PATH IMAGE [OFFSET]
 *     reads PATH sequentially with CHUNK-byte requests and prints the
 *     speed on stderr (a benchmark, not a test).
 * Exit status: 0, 1 on an error, 2 when unsure (the reason on stderr).
 */
#include <config.h>

#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <zlib.h>

#include "internal.h"
#include "native/block.h"
#include "native/fs-ext-files.h"

/* Contents are checksummed up to this many bytes (a corrupt size must
 * not make the walk last for ever; the kernel's walk does the same).
 */
#define HASH_LIMIT (64 * 1024 * 1024)
/* Directories on the current path (a corrupt directory can name its
 * ancestor: the walk must not loop).
 */
#define MAX_DEPTH 256
static ino_t ancestors[MAX_DEPTH];
static size_t depth;

static size_t chunk = 1024 * 1024;
static struct gk_extfs *fs;
/* -p paths (global: what exit() leaves is still reachable). */
static const char **probes;

/* Lines, to sort by path. */
static char **lines;
static size_t nlines, alines;

static void __attribute__ ((noreturn))
die (const char *what, int err)
{
  fprintf (stderr, "native-extfs-tree: %s: %s\n", what, strerror (-err));
  exit (EXIT_FAILURE);
}

static void
add_line (char *line)
{
  if (nlines == alines) {
    alines = alines ? alines * 2 : 256;
    lines = realloc (lines, alines * sizeof *lines);
    if (lines == NULL) {
      perror ("realloc");
      exit (EXIT_FAILURE);
    }
  }
  lines[nlines++] = line;
}

static int
compare_lines (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Append to a growing string. */
struct buf {
  char *s;
  size_t len, cap;
};

static void __attribute__ ((format (printf, 2, 3)))
append (struct buf *b, const char *fs_, ...)
{
  va_list args;
  int n;

  for (;;) {
    va_start (args, fs_);
    n = vsnprintf (b->s + b->len, b->cap - b->len, fs_, args);
    va_end (args);
    if (n >= 0 && (size_t) n < b->cap - b->len)
      break;
    b->cap = (b->cap ? b->cap * 2 : 256) + (size_t) n;
    b->s = realloc (b->s, b->cap);
    if (b->s == NULL) {
      perror ("realloc");
      exit (EXIT_FAILURE);
    }
  }
  b->len += n;
}

static void
append_hex (struct buf *b, const void *data, size_t len)
{
  size_t i;

  for (i = 0; i < len; ++i)
    append (b, "%02x", ((const unsigned char *) data)[i]);
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The line of one inode. */
static void
describe (const char *path, const struct stat *st)
{
  struct buf b = { 0 };

  append (&b, "%s ino=%ju mode=%o uid=%ju gid=%ju size=%jd nlink=%ju "
          "blocks=%jd blksize=%jd rdev=%u:%u "
          "atime=%jd.%09ld mtime=%jd.%09ld ctime=%jd.%09ld",
          path, (uintmax_t) st->st_ino, (unsigned) st->st_mode,
          (uintmax_t) st->st_uid, (uintmax_t) st->st_gid,
          (intmax_t) st->st_size, (uintmax_t) st->st_nlink,
          (intmax_t) st->st_blocks, (intmax_t) st->st_blksize,
          major (st->st_rdev), minor (st->st_rdev),
          (intmax_t) st->st_atim.tv_sec, st->st_atim.tv_nsec,
          (intmax_t) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
          (intmax_t) st->st_ctim.tv_sec, st->st_ctim.tv_nsec);

  if (S_ISLNK (st->st_mode)) {
    CLEANUP_FREE char *target = NULL;
    int r = gk_extfs_readlink (fs, path, &target);

    if (r < 0)
      die (path, r);
    append (&b, " target=");
    append_hex (&b, target, strlen (target));
  }
  else if (S_ISREG (st->st_mode)) {
    struct gk_extfs_file *f;
    CLEANUP_FREE unsigned char *data = malloc (chunk);
    uLong crc = crc32_z (0, Z_NULL, 0), adler = adler32_z (0, Z_NULL, 0);
    uint64_t offset = 0, limit = st->st_size;
    ssize_t n = 0;
    int r;

    if (data == NULL) {
      perror ("malloc");
      exit (EXIT_FAILURE);
    }
    if (limit > HASH_LIMIT)
      limit = HASH_LIMIT;
    r = gk_extfs_open_file (fs, path, &f);
    if (r < 0)
      die (path, r);
    while (offset < limit &&
           (n = gk_extfs_pread (f, data, chunk < limit - offset ?
                                chunk : limit - offset, offset)) > 0) {
      crc = crc32_z (crc, data, n);
      adler = adler32_z (adler, data, n);
      offset += n;
    }
    if (offset < limit && n < 0)
      die (path, n);
    gk_extfs_close_file (f);
    if (offset != limit) {
      fprintf (stderr, "native-extfs-tree: %s: read %" PRIu64 " bytes of %"
               PRIu64 "\n", path, offset, limit);
      exit (EXIT_FAILURE);
    }
    append (&b, " data=%08lx%08lx", (unsigned long) crc,
            (unsigned long) adler);
  }

  /* Extended attributes, sorted by name. */
  {
    CLEANUP_FREE char *names = NULL;
    CLEANUP_FREE const char **sorted = NULL;
    size_t len, n = 0, i;
    const char *p;
    int r;

    r = gk_extfs_listxattr (fs, path, &names, &len);
    if (r < 0)
      die (path, r);
    sorted = malloc ((len + 1) * sizeof *sorted);
    if (sorted == NULL) {
      perror ("malloc");
      exit (EXIT_FAILURE);
    }
    for (p = names; p < names + len; p += strlen (p) + 1)
      sorted[n++] = p;
    qsort (sorted, n, sizeof *sorted, compare_names);
    for (i = 0; i < n; ++i) {
      CLEANUP_FREE void *value = NULL;
      size_t vlen;

      r = gk_extfs_getxattr (fs, path, sorted[i], &value, &vlen);
      if (r < 0)
        die (sorted[i], r);
      append (&b, " xattr %s=", sorted[i]);
      append_hex (&b, value, vlen);
    }
  }
  add_line (b.s);
}

static int
same_stat (const struct stat *a, const struct stat *b)
{
  return a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
    a->st_nlink == b->st_nlink && a->st_uid == b->st_uid &&
    a->st_gid == b->st_gid && a->st_size == b->st_size &&
    a->st_blocks == b->st_blocks && a->st_rdev == b->st_rdev &&
    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void walk (const char *dir);

static int
visit (void *opaque, const char *name, const struct stat *st)
{
  const char *dir = opaque;
  CLEANUP_FREE char *path = NULL;
  struct stat st2;
  int r;

  if (asprintf (&path, "%s/%s", strcmp (dir, "/") == 0 ? "" : dir, name) == -1) {
    perror ("asprintf");
    exit (EXIT_FAILURE);
  }
  r = gk_extfs_lstat (fs, path, &st2);
  if (r < 0)
    die (path, r);
  if (!same_stat (st, &st2)) {
    fprintf (stderr, "native-extfs-tree: %s: readdir and lstat differ\n", path);
    exit (EXIT_FAILURE);
  }
  describe (path, st);
  if (S_ISDIR (st->st_mode)) {
    size_t i;

    for (i = 0; i < depth; ++i)
      if (ancestors[i] == st->st_ino)
        return 0;
    if (depth == MAX_DEPTH)
      return 0;
    ancestors[depth++] = st->st_ino;
    walk (path);
    depth--;
  }
  return 0;
}

static void
walk (const char *dir)
{
  int r = gk_extfs_readdir (fs, dir, visit, (void *) dir);

  if (r < 0)
    die (dir, r);
}

static const char *
errname (int r)
{
  switch (-r) {
  case 0: return "OK";
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ELOOP: return "ELOOP";
  case EINVAL: return "EINVAL";
  case ENODATA: return "ENODATA";
  case EISDIR: return "EISDIR";
  case EIO: return "EIO";
  default: return strerror (-r);
  }
}

static int
count_entry (void *opaque, const char *name, const struct stat *st)
{
  ++*(size_t *) opaque;
  return 0;
}

/* -p: errors and small results of the calls on one path. */
static void
probe (const char *path)
{
  CLEANUP_FREE char *target = NULL;
  CLEANUP_FREE void *value = NULL;
  struct stat st;
  size_t n = 0, vlen;
  int r;

  r = gk_extfs_lstat (fs, path, &st);
  printf ("%s lstat=%s", path, errname (r));
  if (r == 0)
    printf (":%ju", (uintmax_t) st.st_ino);
  r = gk_extfs_readlink (fs, path, &target);
  printf (" readlink=%s", errname (r));
  if (r == 0)
    printf (":%s", target);
  r = gk_extfs_readdir (fs, path, count_entry, &n);
  printf (" readdir=%s", errname (r));
  if (r == 0)
    printf (":%zu", n);
  r = gk_extfs_getxattr (fs, path, "user.none", &value, &vlen);
  printf (" getxattr=%s\n", errname (r));
}

/* -b: sequential read speed. */
static void
bench (const char *path)
{
  struct gk_extfs_file *f;
  CLEANUP_FREE char *data = malloc (chunk);
  struct timespec t0, t1;
  uint64_t offset = 0;
  double secs;
  ssize_t n;
  int r;

  if (data == NULL) {
    perror ("malloc");
    exit (EXIT_FAILURE);
  }
  r = gk_extfs_open_file (fs, path, &f);
  if (r < 0)
    die (path, r);
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while ((n = gk_extfs_pread (f, data, chunk, offset)) > 0)
    offset += n;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  if (n < 0)
    die (path, n);
  gk_extfs_close_file (f);
  secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf (stderr, "%s: %" PRIu64 " bytes in %.3f s: %.0f MB/s\n", path,
           offset, secs, offset / secs / 1e6);
}

int
main (int argc, char *argv[])
{
  const char *bench_path = NULL;
  size_t nprobes = 0, i;
  struct gk_reader img, part, *r = &img;
  CLEANUP_FREE char *why = NULL;
  uint64_t offset = 0;
  gk_h *h;
  int c, ret;

  probes = calloc (argc, sizeof *probes);
  if (probes == NULL) {
    perror ("calloc");
    exit (EXIT_FAILURE);
  }
  while ((c = getopt (argc, argv, "b:c:p:")) != -1) {
    switch (c) {
    case 'b': bench_path = optarg; break;
    case 'c': chunk = strtoull (optarg, NULL, 0); break;
    case 'p': probes[nprobes++] = optarg; break;
    default:
    usage:
      fprintf (stderr, "usage: native-extfs-tree [-c CHUNK] [-p PATH]... "
               "[-b PATH] IMAGE [OFFSET]\n");
      exit (EXIT_FAILURE);
    }
  }
  if (optind != argc - 1 && optind != argc - 2)
    goto usage;
  if (chunk == 0)
    goto usage;
  if (optind == argc - 2)
    offset = strtoull (argv[optind + 1], NULL, 0);

  h = gk_create ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  if (getenv ("GUESTKIT_DEBUG"))
    gk_set_verbose (h, 1);
  if (gk_reader_open_file (h, &img, argv[optind]) == -1)
    goto err;
  if (offset > 0) {
    if (offset > img.size ||
        gk_reader_slice (h, &part, &img, offset, img.size - offset,
                         "part") == -1)
      goto err;
    r = &part;
  }

  ret = gk_extfs_open (h, r, &fs, &why);
  if (ret == GK_NATIVE_UNSURE) {
    fprintf (stderr, "native-extfs-tree: unsure: %s\n", why ? why : "?");
    gk_close (h);
    exit (2);
  }
  if (ret == -1)
    goto err;

  if (bench_path)
    bench (bench_path);
  else if (nprobes > 0)
    for (i = 0; i < nprobes; ++i)
      probe (probes[i]);
  else {
    struct stat st;

    ret = gk_extfs_lstat (fs, "/", &st);
    if (ret < 0)
      die ("/", ret);
    describe ("/", &st);
    ancestors[depth++] = st.st_ino;
    walk ("/");
    qsort (lines, nlines, sizeof *lines, compare_lines);
    for (i = 0; i < nlines; ++i) {
      puts (lines[i]);
      free (lines[i]);
    }
    free (lines);
  }

  gk_extfs_close (fs);
  free (probes);
  if (r == &part)
    gk_reader_close (&part);
  gk_reader_close (&img);
  gk_close (h);
  exit (EXIT_SUCCESS);
 err:
  gk_close (h);
  exit (EXIT_FAILURE);
}
