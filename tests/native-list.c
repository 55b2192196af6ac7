/* The native engine's partition and LVM readers on the command line, for
 * tests/test-native-parts-images.sh.
 *
 *   native-list [-s SECTOR_SIZE] [-l] IMG...
 *     prints the partitions (/dev/sda1, ...) then the LVs (/dev/VG/LV)
 *     as guestfish's list-partitions and lvs do; with -l, partitions
 *     also get "start size type [name]" (bytes, MBR type in hex or the
 *     GPT type GUID) and unsure LVs "unsure: why".
 *   native-list [-s SECTOR_SIZE] -r DEVICE OFFSET COUNT IMG...
 *     writes COUNT bytes at OFFSET of DEVICE (/dev/sdXN or /dev/VG/LV)
 *     to stdout.
 * Exit status: 0, 1 on an error, 2 when unsure (reason on stderr).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/stat.h>

#include "internal.h"
#include "native/reader.h"
#include "native/parttable.h"
#include "native/lvm2.h"

static int
file_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  int fd = *(int *) opaque;

  while (count > 0) {
    ssize_t r = pread (fd, buf, count, offset);
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      perrorf (h, "pread");
      return -1;
    }
    buf = (char *) buf + r;
    count -= r;
    offset += r;
  }
  return 0;
}

/* Globals, so that what exit() leaves is still reachable (sanitizers). */
static struct gk_reader *disks;
static int *fds;
static struct gk_partition **parts;
static size_t *nparts;
static const struct gk_reader **devs;
static struct gk_lv *lvs;
static size_t nlvs;

int
main (int argc, char *argv[])
{
  gk_h *h = gk_create ();
  unsigned sector_size = 0;
  bool long_fmt = false;
  const char *dump = NULL;
  uint64_t dump_off = 0, dump_count = 0;
  int c, ndisks, i, status = 0;
  size_t j, ndevs = 0;
  char *why = NULL;
  int r;

  if (h == NULL)
    exit (EXIT_FAILURE);
  while ((c = getopt (argc, argv, "s:lr:")) != -1) {
    switch (c) {
    case 's': sector_size = atoi (optarg); break;
    case 'l': long_fmt = true; break;
    case 'r': dump = optarg; break;
    default: exit (EXIT_FAILURE);
    }
  }
  if (dump) {
    if (argc - optind < 2) exit (EXIT_FAILURE);
    dump_off = strtoull (argv[optind++], NULL, 0);
    dump_count = strtoull (argv[optind++], NULL, 0);
  }
  ndisks = argc - optind;
  if (ndisks < 1 || ndisks > 26) {
    fprintf (stderr, "usage: native-list [-s N] [-l] [-r DEV OFF COUNT] IMG...\n");
    exit (EXIT_FAILURE);
  }
  disks = calloc (ndisks, sizeof *disks);
  fds = calloc (ndisks, sizeof *fds);
  parts = calloc (ndisks, sizeof *parts);
  nparts = calloc (ndisks, sizeof *nparts);
  devs = calloc (ndisks * (1 + 256), sizeof *devs);
  if (!disks || !fds || !parts || !nparts || !devs) {
    perror ("calloc");
    exit (EXIT_FAILURE);
  }

  for (i = 0; i < ndisks; i++) {
    const char *path = argv[optind + i];
    struct stat st;

    fds[i] = open (path, O_RDONLY | O_CLOEXEC);
    if (fds[i] == -1 || fstat (fds[i], &st) == -1) {
      perror (path);
      exit (EXIT_FAILURE);
    }
    disks[i].pread = file_pread;
    disks[i].opaque = &fds[i];
    disks[i].size = st.st_size;
    disks[i].name = path;
    if (S_ISBLK (st.st_mode)) {
      off_t end = lseek (fds[i], 0, SEEK_END);
      disks[i].size = end < 0 ? 0 : end;
    }
    r = gk_native_partitions (h, &disks[i], sector_size, &parts[i],
                              &nparts[i], &why);
    if (r == -1)
      exit (EXIT_FAILURE);      /* the error handler printed it */
    if (r == GK_NATIVE_UNSURE) {
      fprintf (stderr, "native-list: %s: unsure: %s\n", path, why);
      exit (2);
    }
    devs[ndevs++] = &disks[i];
    for (j = 0; j < nparts[i]; j++) {
      struct gk_partition *p = &parts[i][j];
      char dev[64];

      snprintf (dev, sizeof dev, "/dev/sd%c%d", 'a' + i, p->number);
      if (!p->extended)
        devs[ndevs++] = &p->reader;
      if (dump && strcmp (dump, dev) == 0)
        goto dump_reader;
      if (dump)
        continue;
      if (!long_fmt)
        printf ("%s\n", dev);
      else if (p->gpt)
        printf ("%s %" PRIu64 " %" PRIu64 " %s %s\n", dev, p->start, p->size,
                p->type_guid, p->name);
      else
        printf ("%s %" PRIu64 " %" PRIu64 " %x\n", dev, p->start, p->size,
                p->mbr_type);
      continue;

    dump_reader: {
        CLEANUP_FREE char *buf = malloc (dump_count ? dump_count : 1);
        if (buf == NULL ||
            gk_reader_pread (h, &p->reader, buf, dump_count, dump_off) == -1 ||
            fwrite (buf, 1, dump_count, stdout) != dump_count)
          exit (EXIT_FAILURE);
        exit (EXIT_SUCCESS);
      }
    }
  }

  r = gk_native_lvm (h, devs, ndevs, &lvs, &nlvs, &why);
  if (r == -1)
    exit (EXIT_FAILURE);
  if (r == GK_NATIVE_UNSURE) {
    fprintf (stderr, "native-list: lvm: unsure: %s\n", why);
    exit (2);
  }
  for (j = 0; j < nlvs; j++) {
    if (dump && strcmp (dump, lvs[j].name) == 0) {
      CLEANUP_FREE char *buf = malloc (dump_count ? dump_count : 1);
      if (lvs[j].unsure) {
        fprintf (stderr, "native-list: %s: unsure: %s\n", lvs[j].name,
                 lvs[j].why);
        exit (2);
      }
      if (buf == NULL ||
          gk_reader_pread (h, &lvs[j].reader, buf, dump_count, dump_off) == -1 ||
          fwrite (buf, 1, dump_count, stdout) != dump_count)
        exit (EXIT_FAILURE);
      exit (EXIT_SUCCESS);
    }
    if (dump)
      continue;
    if (long_fmt && lvs[j].unsure)
      printf ("%s unsure: %s\n", lvs[j].name, lvs[j].why);
    else if (long_fmt)
      printf ("%s %" PRIu64 "\n", lvs[j].name, lvs[j].size);
    else
      printf ("%s\n", lvs[j].name);
  }
  if (dump) {
    fprintf (stderr, "native-list: no device %s\n", dump);
    status = EXIT_FAILURE;
  }

  gk_native_free_lvs (lvs, nlvs);
  for (i = 0; i < ndisks; i++) {
    gk_native_free_partitions (parts[i], nparts[i]);
    close (fds[i]);
  }
  free (disks);
  free (fds);
  free (parts);
  free (nparts);
  free (devs);
  gk_close (h);
  return status;
}
