/* guestkit-backup: full and incremental backups of guest disks.
 *
 * Thin over libguestkit (gk_backup_*, lib/backup.c): this file parses
 * the options, prints and shows progress, and turns SIGINT/SIGTERM into
 * gk_user_cancel so that the library undoes the run.
 *
 *   guestkit-backup full|inc   SOURCE DIR
 *   guestkit-backup restore    [--backup ID] [--disk D] -o FILE|--to-vol P/V DIR
 *   guestkit-backup verify     [--backup ID] DIR
 *   guestkit-backup list|show  DIR [ID]
 *   guestkit-backup ls|cat     [--backup ID] [--disk D] [-m DEV] DIR PATH
 *
 * SOURCE: -d DOMAIN [-c URI] | --vol POOL/VOL | -a FILE [--format FMT]
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <time.h>
#include <limits.h>
#include <sys/stat.h>

#include "guestkit.h"
#include "cleanups.h"

static gk_h *h;
static int quiet, verbose, trace_flag, show_progress = -1;
static const char *cur_disk;
static uint64_t cur_size;
static struct timespec start_ts;

static void
print_error (gk_h *g, void *opaque, const char *msg)
{
  fprintf (stderr, "%s: %s\n", program_invocation_short_name, msg);
}

static void
log_message (gk_h *g, void *opaque, int level, const char *msg)
{
  if (level == GK_LOG_WARNING) {
    if (!quiet)
      fprintf (stderr, "%s: warning: %s\n", program_invocation_short_name,
               msg);
  }
  else
    fprintf (stderr, "%s\n", msg);
}

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = program_invocation_short_name;

  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", p);
    exit (status);
  }
  printf ("%s: full and incremental backups of guest disks\n"
"\n"
"  %s full    SOURCE [-O qcow2|raw] [--quiesce] DIR\n"
"  %s inc     SOURCE [--quiesce] DIR\n"
"  %s restore [--backup ID] [--disk NAME] [-O raw|qcow2]\n"
"                    (-o FILE | --to-vol POOL/VOLUME) DIR\n"
"  %s verify  [--backup ID] DIR\n"
"  %s list    DIR\n"
"  %s show    DIR [ID]\n"
"  %s ls      [--backup ID] [--disk NAME] [-m DEV] [-l] DIR PATH\n"
"  %s cat     [--backup ID] [--disk NAME] [-m DEV] DIR PATH\n"
"\n"
"SOURCE is one of:\n"
"  -d|--domain DOMAIN [-c|--connect URI]   every disk of a libvirt domain\n"
"                                          (running or shut off)\n"
"  --vol POOL/VOLUME                       a guestkit pool volume\n"
"  -a|--add FILE [--format FORMAT]         a disk image\n"
"\n"
"Options:\n"
"  -b|--backup ID       a backup of the chain (default: the latest)\n"
"  --disk NAME          the disk of a backup (vda, ...)\n"
"  -m|--mount DEV       the filesystem to read (default: inspection)\n"
"  -l|--long            ls: a long listing\n"
"  -O|--out-format FMT  qcow2 (full backups) or raw\n"
"  -o|--output FILE     restore into this new file\n"
"  --to-vol POOL/VOLUME restore into this new pool volume\n"
"  --quiesce            freeze a running guest's filesystems (guest agent)\n"
"  --progress|--no-progress\n"
"  -q|--quiet  -v|--verbose  -x  -V|--version  --help\n"
"\n"
"See guestkit-backup(1).\n", p, p, p, p, p, p, p, p, p);
  exit (EXIT_SUCCESS);
}

static void
cancel_handler (int sig)
{
  if (h)
    gk_user_cancel (h);
}

static double
elapsed (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start_ts.tv_sec) +
    (now.tv_nsec - start_ts.tv_nsec) / 1e9;
}

static int
progress (void *opaque, uint64_t done, uint64_t total)
{
  if (show_progress > 0 && total > 0)
    fprintf (stderr, "\r%s: %5.1f%% of %" PRIu64 " MiB", cur_disk ? cur_disk
             : "", 100.0 * done / total, total >> 20);
  return 0;
}

static void
disk_start (void *opaque, const char *disk, uint64_t size)
{
  if (show_progress > 0 && cur_disk)
    fprintf (stderr, "\n");
  cur_disk = disk;
  cur_size = size;
}

/* "POOL/VOLUME" split in place. */
static void
split_vol (char *arg, const char **pool, const char **vol)
{
  char *slash = strchr (arg, '/');

  if (slash == NULL || slash == arg || slash[1] == '\0') {
    fprintf (stderr, "%s: --vol/--to-vol: expecting POOL/VOLUME, not "
             "\"%s\"\n", program_invocation_short_name, arg);
    exit (EXIT_FAILURE);
  }
  *slash = '\0';
  *pool = arg;
  *vol = slash + 1;
}

static int
print_summary (const char *dir, const char *id)
{
  CLEANUP_FREE char *m = gk_backup_get_manifest (h, dir, id);

  if (m == NULL)
    return -1;
  printf ("%s\n", m);
  return 0;
}

/* "list": one line per backup of the chain. */
static int
do_list (const char *dir)
{
  CLEANUP_FREE_STRING_LIST char **ids = gk_backup_list (h, dir);
  size_t i;

  if (ids == NULL)
    return -1;
  for (i = 0; ids[i]; ++i)
    printf ("%s\n", ids[i]);
  return 0;
}

/* ls and cat: the backup's disk as a read-only drive. */
static int
mount_backup (const char *dir, const char *id, const char *disk,
              const char *dev)
{
  if (gk_backup_add_drive (h, dir, id, disk) == -1)
    return -1;
  if (dev)
    return gk_mount_ro (h, dev, "/");
  {
    CLEANUP_FREE_STRING_LIST char **roots = gk_inspect_os (h);
    CLEANUP_FREE_STRING_LIST char **fss = NULL;

    if (roots == NULL)
      return -1;
    if (roots[0] != NULL) {
      CLEANUP_FREE_STRING_LIST char **mps =
        gk_inspect_get_mountpoints (h, roots[0]);
      size_t i, n = 0, len;

      if (mps == NULL)
        return -1;
      while (mps[n])
        n += 2;
      /* Shortest mountpoint first: / before /boot. */
      for (len = 1; len < 4096; ++len)
        for (i = 0; i < n; i += 2)
          if (strlen (mps[i]) == len &&
              gk_mount_ro (h, mps[i+1], mps[i]) == -1)
            return -1;
      return 0;
    }
    /* No OS: the only filesystem. */
    fss = gk_list_filesystems (h);
    if (fss == NULL)
      return -1;
    if (fss[0] == NULL || fss[2] != NULL) {
      fprintf (stderr, "%s: %s: no operating system and %s filesystem: "
               "name one with -m\n", program_invocation_short_name, dir,
               fss[0] ? "more than one" : "no");
      return -1;
    }
    return gk_mount_ro (h, fss[0], "/");
  }
}

static int
cmp_dirent (const void *a, const void *b)
{
  return strcmp (((const struct gk_dirent *) a)->name,
                 ((const struct gk_dirent *) b)->name);
}

static int
do_ls (const char *path, bool longfmt)
{
  struct gk_dirent *ents = NULL;
  size_t n, i;

  if (gk_readdir (h, path, longfmt ? GK_READDIR_STAT : 0, &ents, &n) == -1)
    return -1;
  qsort (ents, n, sizeof *ents, cmp_dirent);
  for (i = 0; i < n; ++i) {
    if (strcmp (ents[i].name, ".") == 0 || strcmp (ents[i].name, "..") == 0)
      continue;
    if (longfmt) {
      const struct gk_stat *st = &ents[i].st;
      char t[32];
      time_t mt = st->mtime;
      struct tm tm;

      gmtime_r (&mt, &tm);
      strftime (t, sizeof t, "%Y-%m-%d %H:%M", &tm);
      printf ("%c%04o %6" PRIi64 " %6" PRIi64 " %12" PRIi64 " %s %s\n",
              ents[i].type, (unsigned) (st->mode & 07777), st->uid, st->gid,
              st->size, t, ents[i].name);
    }
    else
      printf ("%s\n", ents[i].name);
  }
  gk_free_dirents (ents, n);
  return 0;
}

int
main (int argc, char *argv[])
{
  enum { HELP_OPTION = CHAR_MAX + 1, FORMAT_OPTION, VOL_OPTION, TO_VOL_OPTION,
         DISK_OPTION, QUIESCE_OPTION, PROGRESS_OPTION, NO_PROGRESS_OPTION,
         LONG_OPTIONS, SHORT_OPTIONS };
  static const char options[] = "a:b:c:d:lm:o:O:qvVx";
  static const struct option long_options[] = {
    { "add", 1, 0, 'a' },
    { "backup", 1, 0, 'b' },
    { "connect", 1, 0, 'c' },
    { "disk", 1, 0, DISK_OPTION },
    { "domain", 1, 0, 'd' },
    { "format", 1, 0, FORMAT_OPTION },
    { "help", 0, 0, HELP_OPTION },
    { "long", 0, 0, 'l' },
    { "long-options", 0, 0, LONG_OPTIONS },
    { "mount", 1, 0, 'm' },
    { "no-progress", 0, 0, NO_PROGRESS_OPTION },
    { "out-format", 1, 0, 'O' },
    { "output", 1, 0, 'o' },
    { "progress", 0, 0, PROGRESS_OPTION },
    { "quiesce", 0, 0, QUIESCE_OPTION },
    { "quiet", 0, 0, 'q' },
    { "short-options", 0, 0, SHORT_OPTIONS },
    { "to-vol", 1, 0, TO_VOL_OPTION },
    { "verbose", 0, 0, 'v' },
    { "version", 0, 0, 'V' },
    { "vol", 1, 0, VOL_OPTION },
    { 0, 0, 0, 0 }
  };
  struct gk_backup_params bp = { 0 };
  struct gk_restore_params rp = { 0 };
  const char *backup_id = NULL, *disk = NULL, *dev = NULL, *out_format = NULL;
  const char *cmd, *dir;
  bool longfmt = false;
  int c, r = -1;
  struct sigaction sa;

  while ((c = getopt_long (argc, argv, options, long_options, NULL)) != -1) {
    switch (c) {
    case 'a': bp.file = optarg; break;
    case 'b': backup_id = optarg; break;
    case 'c': bp.libvirt_uri = optarg; break;
    case 'd': bp.domain = optarg; break;
    case 'l': longfmt = true; break;
    case 'm': dev = optarg; break;
    case 'o': rp.out_file = optarg; break;
    case 'O': out_format = optarg; break;
    case 'q': quiet = 1; break;
    case 'v': verbose = 1; break;
    case 'x': trace_flag = 1; break;
    case 'V':
      printf ("%s %s\n", program_invocation_short_name, PACKAGE_VERSION);
      exit (EXIT_SUCCESS);
    case HELP_OPTION: usage (EXIT_SUCCESS);
    case FORMAT_OPTION: bp.file_format = optarg; break;
    case VOL_OPTION: split_vol (optarg, &bp.pool, &bp.volume); break;
    case TO_VOL_OPTION: split_vol (optarg, &rp.pool, &rp.volume); break;
    case DISK_OPTION: disk = optarg; break;
    case QUIESCE_OPTION: bp.flags |= GK_BACKUP_QUIESCE; break;
    case PROGRESS_OPTION: show_progress = 1; break;
    case NO_PROGRESS_OPTION: show_progress = 0; break;
    case LONG_OPTIONS:
      for (c = 0; long_options[c].name; ++c)
        if (strcmp (long_options[c].name, "long-options") != 0 &&
            strcmp (long_options[c].name, "short-options") != 0)
          printf ("--%s\n", long_options[c].name);
      exit (EXIT_SUCCESS);
    case SHORT_OPTIONS:
      for (c = 0; options[c]; ++c)
        if (options[c] != ':')
          printf ("-%c\n", options[c]);
      exit (EXIT_SUCCESS);
    default: usage (EXIT_FAILURE);
    }
  }
  if (optind >= argc) {
    fprintf (stderr, "%s: no command: full, inc, restore, verify, list, "
             "show, ls or cat\n", program_invocation_short_name);
    usage (EXIT_FAILURE);
  }
  cmd = argv[optind++];
  if (show_progress == -1)
    show_progress = !quiet && isatty (2);

  h = gk_create ();
  if (h == NULL) {
    fprintf (stderr, "%s: %s\n", program_invocation_short_name,
             gk_last_error (NULL));
    exit (EXIT_FAILURE);
  }
  gk_push_error_handler (h, print_error, NULL);
  gk_set_log_callback (h, log_message, NULL);
  gk_set_verbose (h, verbose);
  gk_set_trace (h, trace_flag);

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = cancel_handler;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  clock_gettime (CLOCK_MONOTONIC, &start_ts);

#define NEED_ARGS(n, what)                                              \
  if (argc - optind != (n)) {                                           \
    fprintf (stderr, "%s: %s: expecting %s\n",                          \
             program_invocation_short_name, cmd, what);                 \
    usage (EXIT_FAILURE);                                               \
  }

  if (strcmp (cmd, "full") == 0 || strcmp (cmd, "inc") == 0) {
    CLEANUP_FREE char *id = NULL;
    bool full = cmd[0] == 'f';

    NEED_ARGS (1, "the backup directory");
    bp.dir = argv[optind];
    bp.out_format = out_format;
    bp.progress = progress;
    bp.disk_start = disk_start;
    id = full ? gk_backup_full (h, &bp) : gk_backup_inc (h, &bp);
    if (show_progress > 0 && cur_disk)
      fprintf (stderr, "\n");
    if (id) {
      if (!quiet)
        printf ("%s/%s\n", bp.dir, id);
      if (verbose)
        fprintf (stderr, "%s: %s backup %s in %.2f s\n",
                 program_invocation_short_name, cmd, id, elapsed ());
      r = 0;
    }
  }
  else if (strcmp (cmd, "restore") == 0) {
    NEED_ARGS (1, "the backup directory");
    if (!rp.out_file == !rp.pool) {
      fprintf (stderr, "%s: restore: give either -o FILE or --to-vol "
               "POOL/VOLUME\n", program_invocation_short_name);
      usage (EXIT_FAILURE);
    }
    rp.dir = argv[optind];
    rp.id = backup_id;
    rp.disk = disk;
    rp.out_format = out_format;
    rp.progress = progress;
    cur_disk = disk ? disk : "restore";
    r = gk_backup_restore (h, &rp);
    if (show_progress > 0)
      fprintf (stderr, "\n");
  }
  else if (strcmp (cmd, "verify") == 0) {
    NEED_ARGS (1, "the backup directory");
    dir = argv[optind];
    cur_disk = "verify";
    r = gk_backup_verify (h, dir, backup_id, progress, NULL);
    if (show_progress > 0)
      fprintf (stderr, "\n");
    if (r == 0 && !quiet)
      printf ("%s: %s: the backup matches its checksums\n", dir,
              backup_id ? backup_id : "latest");
  }
  else if (strcmp (cmd, "list") == 0) {
    NEED_ARGS (1, "the backup directory");
    r = do_list (argv[optind]);
  }
  else if (strcmp (cmd, "show") == 0) {
    if (argc - optind < 1 || argc - optind > 2) {
      fprintf (stderr, "%s: show: expecting DIR [ID]\n",
               program_invocation_short_name);
      usage (EXIT_FAILURE);
    }
    r = print_summary (argv[optind],
                       argc - optind == 2 ? argv[optind+1] : backup_id);
  }
  else if (strcmp (cmd, "ls") == 0 || strcmp (cmd, "cat") == 0) {
    NEED_ARGS (2, "the backup directory and a path in the guest");
    dir = argv[optind];
    r = mount_backup (dir, backup_id, disk, dev);
    if (r == 0) {
      if (cmd[0] == 'l')
        r = do_ls (argv[optind+1], longfmt);
      else {
        fflush (stdout);
        r = gk_download (h, argv[optind+1], STDOUT_FILENO);
      }
    }
  }
  else {
    fprintf (stderr, "%s: unknown command \"%s\"\n",
             program_invocation_short_name, cmd);
    usage (EXIT_FAILURE);
  }

  gk_close (h);
  exit (r == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
