/* libguestkit: per-block checksums of backups (see backup-internal.h).
 *
 * The sums file: "GKSUMS4\n", then the block size, the disk size, the
 * flags (GK_SUMS_DELTA) and the number of runs (8 bytes each,
 * little-endian), then the runs in increasing order, each the index of
 * its first block and its number of blocks (4 bytes each, little-endian:
 * 4 PiB of 1 MiB blocks), followed by that many GK_SUM_LEN-byte
 * checksums.  A full file lists the blocks that are not zeros (the
 * others are); a delta file lists the blocks whose checksum differs from
 * the previous backup's.  So the file is small: 16 bytes per MiB of data,
 * or of change, and 8 per run of them.  The manifest records the SHA-256
 * of the whole file, so damage to it is found too.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <endian.h>

#include <openssl/evp.h>

#include "internal.h"
#include "backup-internal.h"
#include "cleanups.h"

#define MAGIC "GKSUMS4\n"
#define HEADER_LEN 40
#define RUN_LEN 8

static const unsigned char zero_sum[GK_SUM_LEN];

bool
gk_int_sum_is_zero (const unsigned char *sum)
{
  return memcmp (sum, zero_sum, GK_SUM_LEN) == 0;
}

bool
gk_int_is_zero (const void *data, size_t len)
{
  const unsigned char *p = data;

  /* Check the first 16 bytes, then compare the buffer with itself
   * shifted by 16: all equal to the (zero) first bytes.
   */
  if (len < 16) {
    while (len--)
      if (*p++)
        return false;
    return true;
  }
  for (size_t i = 0; i < 16; ++i)
    if (p[i])
      return false;
  return memcmp (p, p + 16, len - 16) == 0;
}

void
gk_int_sha256_hex (const void *data, size_t len, char *hex_rtn)
{
  unsigned char md[32];
  unsigned int mdlen = 0;
  size_t i;

  EVP_Digest (data, len, md, &mdlen, EVP_sha256 (), NULL);
  for (i = 0; i < 32; ++i)
    sprintf (hex_rtn + 2 * i, "%02x", md[i]);
}

int
gk_int_sums_init (gk_h *h, struct gk_sums *s, uint64_t disk_size)
{
  s->disk_size = disk_size;
  s->nr_blocks = (disk_size + GK_SUMS_BLOCK - 1) / GK_SUMS_BLOCK;
  if (s->nr_blocks > UINT32_MAX) {
    error_errno (h, EFBIG, "a disk of %" PRIu64 " bytes is too big for "
                 "backups (4 PiB at most)", disk_size);
    return -1;
  }
  s->sum = calloc (s->nr_blocks ? s->nr_blocks : 1, GK_SUM_LEN);
  if (s->sum == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  return 0;
}

void
gk_int_sums_free (struct gk_sums *s)
{
  free (s->sum);
  s->sum = NULL;
}

static bool
record_wanted (const struct gk_sums *s, const struct gk_sums *base,
               uint64_t i)
{
  if (base)
    return memcmp (s->sum + i * GK_SUM_LEN, base->sum + i * GK_SUM_LEN,
                   GK_SUM_LEN) != 0;
  return !gk_int_sum_is_zero (s->sum + i * GK_SUM_LEN);
}

int
gk_int_sums_write (gk_h *h, const struct gk_sums *s,
                   const struct gk_sums *base, const char *path,
                   char *hex_rtn)
{
  CLEANUP_FREE unsigned char *buf = NULL;
  unsigned char *p;
  uint64_t i, n = 0, runs = 0, v;
  size_t len, done = 0;
  int fd;

  if (base && base->nr_blocks != s->nr_blocks) {
    error_errno (h, EINVAL, "%s: checksums of a disk of another size",
                 path);
    return -1;
  }
  for (i = 0; i < s->nr_blocks; ++i)
    if (record_wanted (s, base, i)) {
      if (i == 0 || !record_wanted (s, base, i - 1))
        runs++;
      n++;
    }
  len = HEADER_LEN + runs * RUN_LEN + n * GK_SUM_LEN;
  buf = malloc (len);
  if (buf == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  memcpy (buf, MAGIC, 8);
  v = htole64 (GK_SUMS_BLOCK);
  memcpy (buf + 8, &v, 8);
  v = htole64 (s->disk_size);
  memcpy (buf + 16, &v, 8);
  v = htole64 (base ? GK_SUMS_DELTA : 0);
  memcpy (buf + 24, &v, 8);
  v = htole64 (runs);
  memcpy (buf + 32, &v, 8);
  p = buf + HEADER_LEN;
  for (i = 0; i < s->nr_blocks; ) {
    uint64_t j;
    uint32_t le;

    if (!record_wanted (s, base, i)) {
      i++;
      continue;
    }
    for (j = i + 1; j < s->nr_blocks && record_wanted (s, base, j); ++j)
      ;
    le = htole32 ((uint32_t) i);
    memcpy (p, &le, 4);
    le = htole32 ((uint32_t) (j - i));
    memcpy (p + 4, &le, 4);
    memcpy (p + RUN_LEN, s->sum + i * GK_SUM_LEN, (j - i) * GK_SUM_LEN);
    p += RUN_LEN + (j - i) * GK_SUM_LEN;
    i = j;
  }
  gk_int_sha256_hex (buf, len, hex_rtn);

  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  while (done < len) {
    ssize_t r = write (fd, buf + done, len - done);

    if (r == -1) {
      perrorf (h, "write: %s", path);
      close (fd);
      return -1;
    }
    done += r;
  }
  if (fsync (fd) == -1 || close (fd) == -1) {
    perrorf (h, "close: %s", path);
    return -1;
  }
  return 0;
}

int
gk_int_sums_read (gk_h *h, struct gk_sums *s, const char *path,
                  const char *want_hex, const struct gk_sums *base)
{
  CLEANUP_FREE unsigned char *buf = NULL;
  char hex[65];
  size_t len = 0, alloc = 0;
  uint64_t bs, size, flags, n, i, next = 0;
  size_t pos;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  for (;;) {
    ssize_t r;

    if (len == alloc) {
      unsigned char *p = realloc (buf, alloc ? alloc * 2 : 65536);

      if (p == NULL) {
        perrorf (h, "realloc");
        close (fd);
        return -1;
      }
      buf = p;
      alloc = alloc ? alloc * 2 : 65536;
    }
    r = read (fd, buf + len, alloc - len);
    if (r == -1) {
      perrorf (h, "read: %s", path);
      close (fd);
      return -1;
    }
    if (r == 0)
      break;
    len += r;
  }
  close (fd);
  gk_int_sha256_hex (buf, len, hex);
  if (want_hex && strcmp (hex, want_hex) != 0) {
    error_errno (h, EIO, "%s: the checksums file is damaged (its SHA-256 "
                 "is not the one in the manifest)", path);
    return -1;
  }
  if (len < HEADER_LEN || memcmp (buf, MAGIC, 8) != 0) {
    error_errno (h, EIO, "%s: not a guestkit checksums file", path);
    return -1;
  }
  memcpy (&bs, buf + 8, 8);
  memcpy (&size, buf + 16, 8);
  memcpy (&flags, buf + 24, 8);
  memcpy (&n, buf + 32, 8);
  bs = le64toh (bs);
  size = le64toh (size);
  flags = le64toh (flags);
  n = le64toh (n);
  if (bs != GK_SUMS_BLOCK) {
    error_errno (h, EIO, "%s: checksums of %" PRIu64 "-byte blocks (this "
                 "guestkit uses %d)", path, bs, GK_SUMS_BLOCK);
    return -1;
  }
  if ((flags & GK_SUMS_DELTA) && base == NULL) {
    error_errno (h, EIO, "%s: checksums relative to a backup that is "
                 "missing", path);
    return -1;
  }
  if (n > (len - HEADER_LEN) / RUN_LEN) {
    error_errno (h, EIO, "%s: truncated checksums file", path);
    return -1;
  }
  if (gk_int_sums_init (h, s, size) == -1)
    return -1;
  if (flags & GK_SUMS_DELTA) {
    if (base->disk_size != size) {
      error_errno (h, EIO, "%s: checksums of a %" PRIu64 "-byte disk over "
                   "those of a %" PRIu64 "-byte one", path, size,
                   base->disk_size);
      gk_int_sums_free (s);
      return -1;
    }
    memcpy (s->sum, base->sum, s->nr_blocks * GK_SUM_LEN);
  }
  /* Runs in increasing order, apart (a run ends where the next could
   * have gone on), inside the disk, and exactly filling the file.
   */
  pos = HEADER_LEN;
  for (i = 0; i < n; ++i) {
    uint32_t start, count;

    if (len - pos < RUN_LEN)
      goto truncated;
    memcpy (&start, buf + pos, 4);
    memcpy (&count, buf + pos + 4, 4);
    start = le32toh (start);
    count = le32toh (count);
    pos += RUN_LEN;
    if (count == 0 || start >= s->nr_blocks ||
        count > s->nr_blocks - start || (i > 0 && start <= next)) {
      error_errno (h, EIO, "%s: damaged checksums file (run %" PRIu64 ")",
                   path, i);
      gk_int_sums_free (s);
      return -1;
    }
    if ((len - pos) / GK_SUM_LEN < count)
      goto truncated;
    memcpy (s->sum + (uint64_t) start * GK_SUM_LEN, buf + pos,
            (size_t) count * GK_SUM_LEN);
    pos += (size_t) count * GK_SUM_LEN;
    next = (uint64_t) start + count;
  }
  if (pos != len) {
    error_errno (h, EIO, "%s: damaged checksums file (%zu bytes after the "
                 "last run)", path, len - pos);
    gk_int_sums_free (s);
    return -1;
  }
  return 0;

 truncated:
  error_errno (h, EIO, "%s: truncated checksums file", path);
  gk_int_sums_free (s);
  return -1;
}

/* Blocks. */

int
gk_int_blocks_init (gk_h *h, struct gk_blocks *b, uint64_t disk_size,
                    uint64_t start,
                    int (*done) (void *, uint64_t, uint64_t, size_t,
                                 const unsigned char *,
                                 const unsigned char *),
                    void *opaque)
{
  memset (b, 0, sizeof *b);
  b->h = h;
  b->disk_size = disk_size;
  b->cur = start / GK_SUMS_BLOCK;
  b->pos = start % GK_SUMS_BLOCK;
  if (b->pos != 0) {
    error_errno (h, EINVAL, "blocks: unaligned start %" PRIu64, start);
    return -1;
  }
  b->done = done;
  b->opaque = opaque;
  b->buf = malloc (GK_SUMS_BLOCK);
  if (b->buf == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  return 0;
}

void
gk_int_blocks_free (struct gk_blocks *b)
{
  free (b->buf);
  b->buf = NULL;
}

static size_t
block_len (struct gk_blocks *b)
{
  uint64_t off = b->cur * GK_SUMS_BLOCK;
  uint64_t left = b->disk_size - off;

  return left < GK_SUMS_BLOCK ? left : GK_SUMS_BLOCK;
}

static int
finish_block (struct gk_blocks *b)
{
  unsigned char sum[GK_SUM_LEN], md[EVP_MAX_MD_SIZE];
  size_t len = block_len (b);
  int r;

  if (b->nonzero && !gk_int_is_zero (b->buf, len)) {
    unsigned int mdlen = 0;

    EVP_Digest (b->buf, len, md, &mdlen, EVP_sha256 (), NULL);
    memcpy (sum, md, GK_SUM_LEN);
    r = b->done (b->opaque, b->cur, b->cur * GK_SUMS_BLOCK, len, b->buf,
                 sum);
  }
  else {
    memset (sum, 0, sizeof sum);
    r = b->done (b->opaque, b->cur, b->cur * GK_SUMS_BLOCK, len, NULL, sum);
  }
  b->cur++;
  b->pos = 0;
  b->nonzero = false;
  return r;
}

int
gk_int_blocks_feed (void *opaque, uint64_t offset, uint64_t length,
                    unsigned type, const void *data)
{
  struct gk_blocks *b = opaque;
  int r;

  if (offset != b->cur * GK_SUMS_BLOCK + b->pos) {
    error_errno (b->h, EIO, "blocks: extent at %" PRIu64 " out of order "
                 "(expected %" PRIu64 ")", offset,
                 b->cur * GK_SUMS_BLOCK + b->pos);
    return -1;
  }
  while (length > 0) {
    size_t room = block_len (b) - b->pos;
    size_t n = length < room ? length : room;

    if (data && type == GK_EXTENT_DATA) {
      memcpy (b->buf + b->pos, data, n);
      b->nonzero = true;
      data = (const char *) data + n;
    }
    else if (b->pos == 0 && n == block_len (b)) {
      /* A whole block of zeros: no buffer work. */
      b->pos = n;
      r = finish_block (b);
      if (r != 0)
        return r;
      length -= n;
      continue;
    }
    else
      memset (b->buf + b->pos, 0, n);
    b->pos += n;
    length -= n;
    if (b->pos == block_len (b)) {
      r = finish_block (b);
      if (r != 0)
        return r;
    }
  }
  return 0;
}
