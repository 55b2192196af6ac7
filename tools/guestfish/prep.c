/* guestfish -N: prepared disks.  The file is made (sparse) when the
 * option is parsed; after launch, prepare_drive partitions it and makes
 * the filesystem or the LVM volume in it through the library.
 *
 *   disk[:size]                              a blank disk
 *   part[:size[:parttype]]                   one partition
 *   fs[:fstype[:size[:parttype]]]            a filesystem in it
 *   lv[:/dev/VG/LV[:size[:parttype]]]        an LV on a PV in it
 *   lvfs[:/dev/VG/LV[:fstype[:size[:parttype]]]]  a filesystem on that LV
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "guestfish.h"
#include "cleanups.h"

enum prep_type { PREP_DISK, PREP_PART, PREP_FS, PREP_LV, PREP_LVFS };

static const struct {
  const char *name;
  const char *params;           /* for -N help */
  const char *desc;
} types[] = {
  { "disk", "size", "create a blank disk" },
  { "part", "size parttype", "create a partitioned disk" },
  { "fs", "fstype size parttype", "create a filesystem" },
  { "lv", "name size parttype", "create a disk with logical volume" },
  { "lvfs", "name fstype size parttype",
    "create a disk with logical volume and filesystem" },
};

struct prep {
  enum prep_type type;
  char *filename;
  char *lv;                     /* /dev/VG/LV */
  char *fstype;
  char *parttype;
};

void
list_prepared_drives (void)
{
  size_t i;

  printf ("List of available prepared disk images:\n\n");
  for (i = 0; i < sizeof types / sizeof types[0]; ++i)
    printf ("guestfish -N %-8s - %s\n"
            "                         parameters: %s\n\n",
            types[i].name, types[i].desc, types[i].params);
  printf ("Sizes take the suffixes of the ‘alloc’ command (1G, 100M, ...); "
          "the\ndefault size is 1G, parttype mbr (or gpt), fstype ext2, "
          "name /dev/VG/LV.\n"
          "Prepared disk images are written to file \"test1.img\" in the "
          "local\ndirectory for the first -N option, \"test2.img\" for the "
          "second, and so on.\n");
}

static int
parse_size (const char *s, int64_t *ret)
{
  return parse_int ("-N", "size", s, 1, INT64_MAX, ret);
}

struct prep *
create_prepared_file (const char *type_string, const char *filename)
{
  CLEANUP_FREE char *copy = strdup (type_string);
  char *params[5] = { NULL }, *p;
  size_t n = 0, t, want;
  int64_t size = 1024 * 1024 * 1024;
  const char *size_s = NULL;
  struct prep *prep;
  int fd;

  if (copy == NULL) {
    perror ("strdup");
    return NULL;
  }
  p = strchr (copy, ':');
  if (p)
    *p++ = '\0';
  while (p && n < 5) {
    params[n++] = p;
    p = strchr (p, ':');
    if (p)
      *p++ = '\0';
  }
  for (t = 0; t < sizeof types / sizeof types[0]; ++t)
    if (strcasecmp (copy, types[t].name) == 0)
      break;
  if (t == sizeof types / sizeof types[0]) {
    fprintf (stderr, "guestfish: -N parameter ‘%s’: no such prepared disk "
             "image known.\nUse 'guestfish -N help' to list possible "
             "values for the -N parameter.\n", type_string);
    return NULL;
  }
  want = t == PREP_DISK ? 1 : t == PREP_PART ? 2 : t == PREP_LVFS ? 4 : 3;
  if (p || n > want) {
    fprintf (stderr, "guestfish: -N %s: too many parameters\n", type_string);
    return NULL;
  }
  prep = calloc (1, sizeof *prep);
  if (prep == NULL) {
    perror ("calloc");
    return NULL;
  }
  prep->type = t;
  /* Parameter positions differ per type; empty means the default. */
#define PARAM(i) (n > (i) && *params[i] ? params[i] : NULL)
  switch (prep->type) {
  case PREP_DISK: size_s = PARAM (0); break;
  case PREP_PART: size_s = PARAM (0); prep->parttype = PARAM (1); break;
  case PREP_FS:
    prep->fstype = PARAM (0); size_s = PARAM (1); prep->parttype = PARAM (2);
    break;
  case PREP_LV:
    prep->lv = PARAM (0); size_s = PARAM (1); prep->parttype = PARAM (2);
    break;
  case PREP_LVFS:
    prep->lv = PARAM (0); prep->fstype = PARAM (1); size_s = PARAM (2);
    prep->parttype = PARAM (3);
    break;
  }
#undef PARAM
  prep->lv = strdup (prep->lv ? prep->lv : "/dev/VG/LV");
  prep->fstype = strdup (prep->fstype ? prep->fstype : "ext2");
  prep->parttype = strdup (prep->parttype ? prep->parttype : "mbr");
  prep->filename = strdup (filename);
  if (!prep->lv || !prep->fstype || !prep->parttype || !prep->filename) {
    perror ("strdup");
    free_prep (prep);
    return NULL;
  }
  if (size_s && parse_size (size_s, &size) == -1) {
    free_prep (prep);
    return NULL;
  }
  if ((prep->type == PREP_LV || prep->type == PREP_LVFS) &&
      (strncmp (prep->lv, "/dev/", 5) != 0 || !strchr (prep->lv + 5, '/'))) {
    fprintf (stderr, "guestfish: -N %s: logical volume name must be "
             "/dev/VG/LV\n", type_string);
    free_prep (prep);
    return NULL;
  }

  /* As the reference: an existing file of that name is replaced. */
  fd = open (filename, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC,
             0666);
  if (fd == -1 || ftruncate (fd, size) == -1) {
    fprintf (stderr, "guestfish: -N: %s: %s\n", filename, strerror (errno));
    if (fd >= 0)
      close (fd);
    free_prep (prep);
    return NULL;
  }
  close (fd);
  return prep;
}

int
prepare_drive (struct prep *prep, const char *device)
{
  CLEANUP_FREE char *part = NULL, *vg = NULL;
  const char *lvname;

  if (prep->type == PREP_DISK)
    return 0;
  if (gk_part_disk (h, device, prep->parttype) == -1)
    return -1;
  if (asprintf (&part, "%s1", device) == -1) {
    perror ("asprintf");
    return -1;
  }
  if (prep->type == PREP_PART)
    return 0;
  if (prep->type == PREP_FS)
    return gk_mkfs (h, prep->fstype, part);

  /* /dev/VG/LV */
  vg = strdup (prep->lv + 5);
  if (vg == NULL) {
    perror ("strdup");
    return -1;
  }
  *strchr (vg, '/') = '\0';
  lvname = strchr (prep->lv + 5, '/') + 1;
  {
    const char *pvs[] = { part, NULL };

    if (gk_pvcreate (h, part) == -1 ||
        gk_vgcreate (h, vg, pvs) == -1 ||
        gk_lvcreate_free (h, lvname, vg, 100) == -1)
      return -1;
  }
  if (prep->type == PREP_LVFS)
    return gk_mkfs (h, prep->fstype, prep->lv);
  return 0;
}

void
free_prep (struct prep *prep)
{
  if (prep == NULL)
    return;
  free (prep->filename);
  free (prep->lv);
  free (prep->fstype);
  free (prep->parttype);
  free (prep);
}
