/* virt-df: output formats.
 *
 * Text and CSV are byte for byte those of libguestfs's virt-df
 * (guestfs-tools df/output.c): the same column widths, the same rounding
 * of percentages (computed in single precision, as there), the same CSV
 * quoting.  JSON is ours.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <math.h>
#include <errno.h>

#include "human.h"
#include "virt-df.h"

static int json_rows;           /* rows printed so far in JSON mode */

static void
write_csv_field (FILE *fp, const char *field)
{
  const char *p;

  if (strpbrk (field, " \"\n,") == NULL) {
    fputs (field, fp);
    return;
  }
  fputc ('"', fp);
  for (p = field; *p; ++p) {
    if (*p == '"')
      fputc ('"', fp);
    fputc (*p, fp);
  }
  fputc ('"', fp);
}

static void
write_json_string (FILE *fp, const char *s)
{
  fputc ('"', fp);
  for (; *s; ++s) {
    unsigned char c = *s;

    if (c == '"' || c == '\\')
      fprintf (fp, "\\%c", c);
    else if (c == '\n')
      fputs ("\\n", fp);
    else if (c < 0x20)
      fprintf (fp, "\\u%04x", c);
    else
      fputc (c, fp);
  }
  fputc ('"', fp);
}

void
print_title (void)
{
  const char *cols[6] = { "VirtualMachine", "Filesystem" };
  size_t i;

  if (output_mode == OUTPUT_JSON) {
    printf ("[");
    json_rows = 0;
    return;
  }
  if (!inodes) {
    cols[2] = human ? "Size" : "1K-blocks";
    cols[3] = "Used";
    cols[4] = "Available";
    cols[5] = "Use%";
  }
  else {
    cols[2] = "Inodes";
    cols[3] = "IUsed";
    cols[4] = "IFree";
    cols[5] = "IUse%";
  }
  if (output_mode == OUTPUT_TEXT) {
    /* The VirtualMachine column is not shown in text mode. */
    printf ("%-36s%10s %10s %10s %5s\n",
            cols[1], cols[2], cols[3], cols[4], cols[5]);
    return;
  }
  for (i = 0; i < 6; ++i) {
    if (i > 0)
      putchar (',');
    write_csv_field (stdout, cols[i]);
  }
  putchar ('\n');
}

void
print_end (void)
{
  if (output_mode == OUTPUT_JSON)
    printf ("%s]\n", json_rows ? "\n" : "");
  fflush (stdout);
}

/* n blocks of size from, in blocks of size to (both powers of two). */
static uint64_t
scale (uint64_t n, uint64_t from, uint64_t to)
{
  if (from >= to)
    return n * (from / to);
  return n / (to / from);
}

/* The reference computes percentages into a float: keep that precision,
 * or ceil() and %.1f could round differently near whole numbers.
 */
static float
percent_used (int64_t total, int64_t free_)
{
  if (total == 0)
    return 0;
  return 100. - 100. * free_ / total;
}

static void
print_json_row (const char *name, const struct gk_fs_usage *u)
{
  const struct gk_statvfs *st = &u->st;

  printf ("%s\n  {", json_rows++ ? "," : "");
  printf ("\"guest\": ");
  write_json_string (stdout, name);
  printf (", \"device\": ");
  write_json_string (stdout, u->device);
  printf (", \"fstype\": ");
  write_json_string (stdout, u->fstype);
  printf (", \"size\": %" PRIu64 ", \"used\": %" PRIu64
          ", \"available\": %" PRIu64 ", \"use_percent\": %.1f"
          ", \"inodes\": %" PRIi64 ", \"inodes_used\": %" PRIi64
          ", \"inodes_free\": %" PRIi64 ", \"inodes_use_percent\": %.1f}",
          (uint64_t) st->blocks * st->bsize,
          (uint64_t) (st->blocks - st->bfree) * st->bsize,
          (uint64_t) st->bavail * st->bsize,
          (double) percent_used (st->blocks, st->bfree),
          st->files, st->files - st->ffree, st->ffree,
          (double) percent_used (st->files, st->ffree));
}

static void
print_row (const char *name, const struct gk_fs_usage *u)
{
  const struct gk_statvfs *st = &u->st;
  char buf[3][HUMAN_SIZE_BUFLEN], pct[16];
  const char *cols[4];
  float percent;
  size_t i, len;

  if (!inodes) {
    if (!human) {
      snprintf (buf[0], sizeof buf[0], "%" PRIu64,
                scale (st->blocks, st->bsize, 1024));
      snprintf (buf[1], sizeof buf[1], "%" PRIu64,
                scale (st->blocks - st->bfree, st->bsize, 1024));
      snprintf (buf[2], sizeof buf[2], "%" PRIu64,
                scale (st->bavail, st->bsize, 1024));
    }
    else {
      human_size (st->blocks, st->bsize, buf[0]);
      human_size (st->blocks - st->bfree, st->bsize, buf[1]);
      human_size (st->bavail, st->bsize, buf[2]);
    }
    percent = percent_used (st->blocks, st->bfree);
  }
  else {
    snprintf (buf[0], sizeof buf[0], "%" PRIi64, st->files);
    snprintf (buf[1], sizeof buf[1], "%" PRIi64, st->files - st->ffree);
    snprintf (buf[2], sizeof buf[2], "%" PRIi64, st->ffree);
    percent = percent_used (st->files, st->ffree);
  }
  for (i = 0; i < 3; ++i)
    cols[i] = buf[i];
  if (output_mode == OUTPUT_TEXT)
    /* ceil, as df itself rounds the percentage up. */
    snprintf (pct, sizeof pct, "%3.0f%%", ceil (percent));
  else
    snprintf (pct, sizeof pct, "%.1f", (double) percent);
  cols[3] = pct;

  if (output_mode == OUTPUT_TEXT) {
    len = strlen (name) + strlen (u->device) + 1;
    printf ("%s:%s", name, u->device);
    /* Long names push the numbers onto the next line. */
    if (len <= 36)
      printf ("%*s", (int) (36 - len), "");
    else
      printf ("\n%36s", "");
    printf ("%10s %10s %10s %5s\n", cols[0], cols[1], cols[2], cols[3]);
    return;
  }
  write_csv_field (stdout, name);
  putchar (',');
  write_csv_field (stdout, u->device);
  for (i = 0; i < 4; ++i) {
    putchar (',');
    write_csv_field (stdout, cols[i]);
  }
  putchar ('\n');
}

void
print_usage (const char *name, const char *uuid_str,
             const struct gk_fs_usage *usage, size_t n)
{
  size_t i;

  if (uuid && uuid_str)
    name = uuid_str;
  for (i = 0; i < n; ++i) {
    if (usage[i].skip_reason) {
      if (verbose)
        fprintf (stderr, "%s: %s:%s (%s) skipped: %s\n",
                 program_invocation_short_name, name, usage[i].device,
                 usage[i].fstype, usage[i].skip_reason);
      continue;
    }
    if (output_mode == OUTPUT_JSON)
      print_json_row (name, &usage[i]);
    else
      print_row (name, &usage[i]);
  }
}
