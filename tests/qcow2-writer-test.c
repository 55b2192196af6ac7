/* Make a qcow2 image with the native writer (lib/qcow2-writer.c), the
 * way guestkit-backup does: through a gk_disk (the front's range checks)
 * over the writer's source.  For tests/test-qcow2-writer.sh.
 *
 *   qcow2-writer-test [BACKING] IMAGE SIZE [OP...]
 *   qcow2-writer-test [BACKING] --copy RAW IMAGE
 *
 * BACKING is "--backing FILE --backing-format FMT".  Operations:
 *
 *   write OFF LEN BYTE    write LEN bytes of BYTE at OFF
 *   zero OFF LEN          zero a range
 *   read OFF LEN BYTE     read a range back before close: all BYTE
 *   read-eio OFF LEN      reading must fail with EIO
 *   refuse write|zero OFF LEN
 *                         must fail with EINVAL (prints "refused: MSG")
 *   flush
 *
 * --copy copies a raw file: every non-zero 64 KiB subcluster (the
 * writer's granule: its clusters are 2 MiB) is written (a run of them
 * in one request); with a backing file the zero subclusters and holes
 * are zeroed (they must hide the backing file's data), without
 * one they are skipped.
 *
 * Numbers are decimal.  On failure the handle's error is printed (one
 * line), the image is removed (as the backup engine does) and the exit
 * status is 1.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "internal.h"
#include "disk-internal.h"

#define SUBCLUSTER (64 * 1024)       /* the writer's granule */
#define CHUNK (8 * 1024 * 1024)         /* copy and fill buffers */

static gk_h *h;
static gk_disk *disk;
static const char *image;
static bool overlay;

static void __attribute__ ((noreturn))
die (void)
{
  if (disk)
    gk_disk_close (disk);
  unlink (image);
  gk_close (h);
  exit (EXIT_FAILURE);
}

static uint64_t
num (const char *s)
{
  char *end;
  uint64_t v;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || end == s || *end) {
    fprintf (stderr, "qcow2-writer-test: not a number: %s\n", s);
    die ();
  }
  return v;
}

static void
fill (uint64_t offset, uint64_t length, int byte)
{
  char *buf = malloc (CHUNK);

  if (buf == NULL) {
    perror ("malloc");
    die ();
  }
  memset (buf, byte, CHUNK);
  /* One request when it fits, so that unaligned ones reach the writer
   * as given.
   */
  while (length > 0) {
    size_t n = length < CHUNK ? length : CHUNK;

    if (gk_disk_pwrite (disk, buf, n, offset) == -1) {
      free (buf);
      die ();
    }
    offset += n;
    length -= n;
  }
  free (buf);
}

static void
check_read (uint64_t offset, uint64_t length, int byte)
{
  char *buf = malloc (CHUNK);

  if (buf == NULL) {
    perror ("malloc");
    die ();
  }
  while (length > 0) {
    size_t n = length < CHUNK ? length : CHUNK, i;

    if (gk_disk_pread (disk, buf, n, offset) == -1) {
      free (buf);
      die ();
    }
    for (i = 0; i < n; ++i)
      if ((unsigned char) buf[i] != byte) {
        fprintf (stderr, "qcow2-writer-test: byte %" PRIu64 " reads as "
                 "0x%02x, not 0x%02x\n", offset + i,
                 (unsigned char) buf[i], byte);
        free (buf);
        die ();
      }
    offset += n;
    length -= n;
  }
  free (buf);
}

/* Run a request that must be refused with EINVAL (and change nothing). */
static void
refuse (const char *op, uint64_t offset, uint64_t length)
{
  char *buf = calloc (1, length ? length : 1);
  int r;

  if (buf == NULL) {
    perror ("calloc");
    die ();
  }
  gk_push_error_handler (h, NULL, NULL);
  if (strcmp (op, "write") == 0)
    r = gk_disk_pwrite (disk, buf, length, offset);
  else
    r = gk_disk_zero (disk, offset, length);
  gk_pop_error_handler (h);
  free (buf);
  if (r != -1 || gk_last_errno (h) != EINVAL) {
    fprintf (stderr, "qcow2-writer-test: %s %" PRIu64 " %" PRIu64
             " was not refused with EINVAL\n", op, offset, length);
    die ();
  }
  printf ("refused: %s\n", gk_last_error (h));
}

static void
read_eio (uint64_t offset, uint64_t length)
{
  char *buf = malloc (length ? length : 1);
  int r;

  if (buf == NULL) {
    perror ("malloc");
    die ();
  }
  gk_push_error_handler (h, NULL, NULL);
  r = gk_disk_pread (disk, buf, length, offset);
  gk_pop_error_handler (h);
  free (buf);
  if (r != -1 || gk_last_errno (h) != EIO) {
    fprintf (stderr, "qcow2-writer-test: reading %" PRIu64 " %" PRIu64
             " did not fail with EIO\n", offset, length);
    die ();
  }
}

static bool
is_zero (const char *p, size_t n)
{
  return n == 0 || (p[0] == 0 && memcmp (p, p + 1, n - 1) == 0);
}

/* Zero a range of subclusters (overlays only: elsewhere it reads as zeros
 * already).
 */
static void
zero_range (uint64_t offset, uint64_t length)
{
  if (overlay && length > 0 && gk_disk_zero (disk, offset, length) == -1)
    die ();
}

/* Copy [offset, end) (whole subclusters, or up to the end) from fd. */
static void
copy_data (int fd, char *buf, uint64_t offset, uint64_t end)
{
  while (offset < end) {
    size_t n = end - offset < CHUNK ? end - offset : CHUNK, i, run;
    ssize_t r = pread (fd, buf, n, offset);

    if (r != (ssize_t) n) {
      fprintf (stderr, "qcow2-writer-test: read at %" PRIu64 ": %s\n",
               offset, r == -1 ? strerror (errno) : "short read");
      die ();
    }
    /* Runs of data subclusters and of zero subclusters. */
    for (i = 0; i < n; i += run) {
      bool zero = is_zero (buf + i,
                           n - i < SUBCLUSTER ? n - i : SUBCLUSTER);

      for (run = 0; i + run < n; ) {
        size_t c = n - i - run < SUBCLUSTER ? n - i - run : SUBCLUSTER;

        if (is_zero (buf + i + run, c) != zero)
          break;
        run += c;
      }
      if (!zero && gk_disk_pwrite (disk, buf + i, run, offset + i) == -1)
        die ();
      if (zero)
        zero_range (offset + i, run);
    }
    offset += n;
  }
}

/* Data regions (SEEK_DATA/SEEK_HOLE) widened to whole subclusters;
 * the subclusters wholly in holes are skipped or zeroed.
 */
static void
copy (const char *raw)
{
  int fd = open (raw, O_RDONLY | O_CLOEXEC);
  char *buf = malloc (CHUNK);
  uint64_t size = gk_disk_get_size (disk), pos = 0;

  if (fd == -1 || buf == NULL) {
    perror (raw);
    die ();
  }
  while (pos < size) {
    off_t data = lseek (fd, pos, SEEK_DATA), hole;
    uint64_t start, end;

    if (data == -1 && errno != ENXIO) {
      perror ("lseek");
      die ();
    }
    if (data == -1)
      data = size;
    start = data / SUBCLUSTER * SUBCLUSTER;
    zero_range (pos, start - pos);
    if (start >= size)
      break;
    hole = lseek (fd, data, SEEK_HOLE);
    if (hole == -1) {
      perror ("lseek");
      die ();
    }
    end = (hole + SUBCLUSTER - 1) / SUBCLUSTER * SUBCLUSTER;
    if (end > size)
      end = size;
    copy_data (fd, buf, start, end);
    pos = end;
  }
  free (buf);
  close (fd);
}

static void
usage (void)
{
  fprintf (stderr, "usage: qcow2-writer-test [--backing FILE "
           "--backing-format FMT] IMAGE SIZE [OP...]\n"
           "       qcow2-writer-test [--backing FILE --backing-format FMT] "
           "--copy RAW IMAGE\n");
  exit (EXIT_FAILURE);
}

int
main (int argc, char *argv[])
{
  const char *backing = NULL, *backing_format = NULL, *raw = NULL;
  struct gk_disk_source src = { 0 };
  uint64_t size;
  int i = 1;

  for (; i < argc && strncmp (argv[i], "--", 2) == 0; ++i) {
    if (strcmp (argv[i], "--backing") == 0 && i + 1 < argc)
      backing = argv[++i];
    else if (strcmp (argv[i], "--backing-format") == 0 && i + 1 < argc)
      backing_format = argv[++i];
    else if (strcmp (argv[i], "--copy") == 0 && i + 1 < argc)
      raw = argv[++i];
    else
      usage ();
  }
  if (i >= argc || (raw == NULL && i + 1 >= argc))
    usage ();
  image = argv[i++];
  overlay = backing != NULL;

  h = gk_create ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  if (getenv ("GUESTKIT_DEBUG"))
    gk_set_verbose (h, 1);
  if (raw) {
    struct stat st;

    if (stat (raw, &st) == -1) {
      perror (raw);
      gk_close (h);
      exit (EXIT_FAILURE);
    }
    size = st.st_size;
  }
  else
    size = num (argv[i++]);

  if (gk_int_qcow2_writer_open (h, image, size, backing, backing_format,
                                &src) == -1) {
    gk_close (h);
    exit (EXIT_FAILURE);
  }
  disk = gk_int_disk_new (h, &src, image, image, "qcow2", GK_DISK_READWRITE);
  if (disk == NULL)
    die ();

  if (raw)
    copy (raw);
  while (i < argc) {
    const char *op = argv[i];
    int left = argc - i - 1;

    if (strcmp (op, "write") == 0 && left >= 3) {
      fill (num (argv[i+1]), num (argv[i+2]), num (argv[i+3]));
      i += 4;
    }
    else if (strcmp (op, "zero") == 0 && left >= 2) {
      if (gk_disk_zero (disk, num (argv[i+1]), num (argv[i+2])) == -1)
        die ();
      i += 3;
    }
    else if (strcmp (op, "read") == 0 && left >= 3) {
      check_read (num (argv[i+1]), num (argv[i+2]), num (argv[i+3]));
      i += 4;
    }
    else if (strcmp (op, "read-eio") == 0 && left >= 2) {
      read_eio (num (argv[i+1]), num (argv[i+2]));
      i += 3;
    }
    else if (strcmp (op, "refuse") == 0 && left >= 3) {
      refuse (argv[i+1], num (argv[i+2]), num (argv[i+3]));
      i += 4;
    }
    else if (strcmp (op, "flush") == 0) {
      if (gk_disk_flush (disk) == -1)
        die ();
      i += 1;
    }
    else {
      fprintf (stderr, "qcow2-writer-test: bad operation: %s\n", op);
      die ();
    }
  }

  if (gk_int_disk_close_checked (disk) == -1) {
    disk = NULL;
    die ();
  }
  disk = NULL;
  gk_close (h);
  if (fclose (stdout) != 0) {
    perror ("stdout");
    unlink (image);
    exit (EXIT_FAILURE);
  }
  exit (EXIT_SUCCESS);
}
