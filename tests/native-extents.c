/* Print the allocation map of a disk image, as the native engine's
 * block sources report it (gk_reader_extents), so that tests can
 * compare it with "qemu-img map".
 *
 *   native-extents [-v] [--format FMT] [--verify] [--slice OFF:LEN]
 *                  [--range OFF:LEN] [--stop-after N] IMAGE
 *
 * One line per extent: "OFFSET LENGTH data|zero|hole" (decimal).
 * --verify reads every zero and hole extent through the reader (from
 * the callback, as a backup tool would) and checks that it is zeros.
 * --slice maps a slice of the image (gk_reader_slice), --range a part
 * of it.  --stop-after N makes the callback return 42 at the Nth extent
 * and checks that gk_reader_extents returns 42.
 *
 * The map is also checked: in order, contiguous, covering the range,
 * no two neighbours of the same type.
 *
 * Exit status: 0 done; 1 error (the handle's message on stderr);
 * 2 unsure ("native-extents: unsure: REASON" on stderr).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>
#include <getopt.h>

#include "internal.h"
#include "native/block.h"

#define BUF (1024 * 1024)
#define STOP_VALUE 42

struct walk {
  gk_h *h;
  const struct gk_reader *r;
  bool verify;
  uint64_t next;                /* where the next extent must start */
  unsigned last_type;
  uint64_t count, stop_after;
  char *buf;
  bool failed;                  /* a check failed (message printed) */
};

static const char *
type_name (unsigned type)
{
  switch (type) {
  case GK_READER_DATA: return "data";
  case GK_READER_ZERO: return "zero";
  case GK_READER_HOLE: return "hole";
  default: return "?";
  }
}

static int
verify_zeros (struct walk *w, uint64_t offset, uint64_t length)
{
  while (length > 0) {
    size_t n = length < BUF ? length : BUF, i;

    if (gk_reader_pread (w->h, w->r, w->buf, n, offset) == -1)
      return -1;
    for (i = 0; i < n; ++i) {
      if (w->buf[i] != 0) {
        fprintf (stderr, "native-extents: byte %" PRIu64 " is in a zero "
                 "or hole extent but reads as 0x%02x\n", offset + i,
                 (unsigned char) w->buf[i]);
        w->failed = true;
        return -1;
      }
    }
    offset += n;
    length -= n;
  }
  return 0;
}

static int
extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct walk *w = opaque;

  if (offset != w->next || length == 0 ||
      (w->count > 0 && type == w->last_type) || type > GK_READER_HOLE) {
    fprintf (stderr, "native-extents: bad extent %" PRIu64 " %" PRIu64
             " %u (expected one at %" PRIu64 ", not %s)\n",
             offset, length, type, w->next,
             w->count ? type_name (w->last_type) : "-");
    w->failed = true;
    return -1;
  }
  printf ("%" PRIu64 " %" PRIu64 " %s\n", offset, length, type_name (type));
  w->next = offset + length;
  w->last_type = type;
  w->count++;
  if (w->verify && type != GK_READER_DATA &&
      verify_zeros (w, offset, length) == -1)
    return -1;
  if (w->stop_after && w->count == w->stop_after)
    return STOP_VALUE;
  return 0;
}

static void
parse_range (const char *arg, uint64_t *offset, uint64_t *length)
{
  if (sscanf (arg, "%" SCNu64 ":%" SCNu64, offset, length) != 2) {
    fprintf (stderr, "native-extents: expected OFFSET:LENGTH, not %s\n",
             arg);
    exit (EXIT_FAILURE);
  }
}

static void
usage (void)
{
  fprintf (stderr, "usage: native-extents [-v] [--format FMT] [--verify] "
           "[--slice OFF:LEN] [--range OFF:LEN] [--stop-after N] IMAGE\n");
  exit (EXIT_FAILURE);
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "range", required_argument, NULL, 'r' },
    { "slice", required_argument, NULL, 's' },
    { "stop-after", required_argument, NULL, 'S' },
    { "verbose", no_argument, NULL, 'v' },
    { "verify", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = NULL;
  struct gk_reader img, slice, *r = &img;
  struct walk w = { .verify = false };
  CLEANUP_FREE char *why = NULL;
  uint64_t offset = 0, length = 0, slice_offset = 0, slice_length = 0;
  bool range = false, sliced = false;
  gk_h *h;
  int c, ret;

  while ((c = getopt_long (argc, argv, "f:v", long_options, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'r': parse_range (optarg, &offset, &length); range = true; break;
    case 's':
      parse_range (optarg, &slice_offset, &slice_length);
      sliced = true;
      break;
    case 'S': w.stop_after = strtoull (optarg, NULL, 10); break;
    case 'v': setenv ("GUESTKIT_DEBUG", "1", 1); break;
    case 'V': w.verify = true; break;
    default: usage ();
    }
  }
  if (optind != argc - 1)
    usage ();

  h = gk_create ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  if (getenv ("GUESTKIT_DEBUG"))
    gk_set_verbose (h, 1);
  ret = gk_reader_open_image (h, &img, argv[optind], format, &why);
  if (ret == GK_NATIVE_UNSURE) {
    fprintf (stderr, "native-extents: unsure: %s\n", why ? why : "?");
    gk_close (h);
    exit (2);
  }
  if (ret == -1) {
    gk_close (h);
    exit (EXIT_FAILURE);
  }
  if (sliced) {
    if (gk_reader_slice (h, &slice, &img, slice_offset, slice_length,
                         "slice") == -1) {
      gk_reader_close (&img);
      gk_close (h);
      exit (EXIT_FAILURE);
    }
    r = &slice;
  }
  if (!range)
    length = r->size;

  w.h = h;
  w.r = r;
  w.next = offset;
  w.buf = malloc (BUF);
  if (w.buf == NULL) {
    perror ("malloc");
    exit (EXIT_FAILURE);
  }
  ret = gk_reader_extents (h, r, offset, length, extent, &w);
  if (w.stop_after && ret == STOP_VALUE && w.count == w.stop_after &&
      !w.failed) {
    printf ("stopped: %d\n", ret);
    ret = 0;
  }
  else if (ret == 0 && w.stop_after && w.count >= w.stop_after) {
    fprintf (stderr, "native-extents: gk_reader_extents went on after "
             "the callback stopped it\n");
    ret = -1;
  }
  else if (ret == 0 && w.next != offset + length) {
    fprintf (stderr, "native-extents: the extents end at %" PRIu64
             ", not at %" PRIu64 "\n", w.next, offset + length);
    ret = -1;
  }
  else if (ret != 0 && ret != -1) {
    fprintf (stderr, "native-extents: gk_reader_extents returned %d\n", ret);
    ret = -1;
  }
  /* (ret == -1: the error handler or the callback printed why.) */

  free (w.buf);
  if (sliced)
    gk_reader_close (&slice);
  gk_reader_close (&img);
  gk_close (h);
  if (fclose (stdout) != 0) {
    perror ("stdout");
    exit (EXIT_FAILURE);
  }
  exit (ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
