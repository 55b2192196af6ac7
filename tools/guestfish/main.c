/* guestfish: the guest filesystem shell.
 *
 * Options, shell semantics, output formats and exit codes are those of
 * libguestfs's guestfish 1.48; the work is done by libguestkit.  This
 * file parses the options, adds the drives, launches and mounts what the
 * options ask for, then hands over to the shell (shell.c), the remote
 * control (rc.c) or the commands on the command line.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <unistd.h>

#include "guestfish.h"
#include "cleanups.h"
#include "vector.h"

gk_h *h;
int read_only;
int verbose;
int progress_bars;
int complete_dest_paths = 1;
int pipe_error;
int is_interactive;
int quit;
int command_num;
const char *input_file;
int input_lineno;
const char *libvirt_uri;
int remote_pid;

static int trace_calls;          /* -x */
static int progress_cb (void *opaque, uint64_t done, uint64_t total);
static int autosync = 1;         /* -n turns it off */
static int network;

/* A drive from -a, -d, --vol or -N, in command-line order. */
enum drv_type { DRV_A, DRV_D, DRV_VOL, DRV_N };
struct drv {
  enum drv_type type;
  const char *name;             /* file/URI, domain, POOL/VOL, -N file */
  bool checked;                 /* -a: the file must be readable now */
  const char *format;           /* -a: --format in force */
  int blocksize;                /* -a: --blocksize in force */
  struct prep *prep;            /* -N */
  size_t first_index;           /* its first disk: /dev/sd? */
};
DEFINE_VECTOR_TYPE (drv_vector, struct drv);

/* -m dev[:mountpoint[:options[:fstype]]] */
struct mp {
  char *device, *mountpoint, *options, *fstype;
};
DEFINE_VECTOR_TYPE (mp_vector, struct mp);

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = "guestfish";

  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", p);
  else
    printf ("%s: guest filesystem shell\n"
            "%s lets you edit virtual machine filesystems\n"
            "Usage:\n"
            "  %s [--options] cmd [: cmd : cmd ...]\n"
            "Options:\n"
            "  -h|--cmd-help        List available commands\n"
            "  -h|--cmd-help cmd    Display detailed help on ‘cmd’\n"
            "  -a|--add image       Add image\n"
            "  --blocksize[=512|4096]\n"
            "                       Set sector size of the disk for -a option\n"
            "  -c|--connect uri     Specify libvirt URI for -d option\n"
            "  --csh                Make --listen csh-compatible\n"
            "  -d|--domain guest    Add disks from libvirt guest\n"
            "  --echo-keys          Don’t turn off echo for passphrases\n"
            "  -f|--file file       Read commands from file\n"
            "  --format[=raw|..]    Force disk format for -a option\n"
            "  --help               Display brief help\n"
            "  -i|--inspector       Automatically mount filesystems\n"
            "  --key selector       Specify a LUKS key\n"
            "  --keys-from-stdin    Read passphrases from stdin\n"
            "  --listen             Listen for remote commands\n"
            "  -m|--mount dev[:mnt[:opts[:fstype]]]\n"
            "                       Mount dev on mnt (if omitted, /)\n"
            "  --network            Enable network\n"
            "  -N|--new [filename=]type\n"
            "                       Create prepared disk (test<N>.img or filename)\n"
            "  -n|--no-sync         Don’t autosync\n"
            "  --no-dest-paths      Don’t tab-complete paths from guest fs\n"
            "  --pipe-error         Pipe commands can detect write errors\n"
            "  --progress-bars      Enable progress bars even when not interactive\n"
            "  --no-progress-bars   Disable progress bars\n"
            "  --remote[=pid]       Send commands to remote %s\n"
            "  -r|--ro              Mount read-only\n"
            "  --selinux            For backwards compat only, does nothing\n"
            "  -v|--verbose         Verbose messages\n"
            "  -V|--version         Display version and exit\n"
            "  --vol pool/volume    Add a guestkit pool volume\n"
            "  -w|--rw              Mount read-write\n"
            "  -x                   Echo each command before executing it\n"
            "\n"
            "To examine a disk image, ISO, hard disk, filesystem etc:\n"
            "  %s [--ro|--rw] -i -a /path/to/disk.img\n"
            "or\n"
            "  %s [--ro|--rw] -i -d name-of-libvirt-domain\n"
            "\n"
            "‘--ro’ is recommended to avoid any writes to the disk image.\n"
            "\n"
            "If ‘-i’ option fails run again without ‘-i’ and use ‘run’ +\n"
            "‘list-filesystems’ + ‘mount’ cmds.\n"
            "\n"
            "For more information, see the manpage %s(1).\n",
            p, p, p, p, p, p, p);
  exit (status);
}

void
print_error (const char *fs, ...)
{
  int saved_errno = errno;
  va_list args;

  if (input_file)
    fprintf (stderr, "%s:%d: ", input_file, input_lineno);
  fprintf (stderr, "libguestfs: error: ");
  va_start (args, fs);
  errno = saved_errno;
  vfprintf (stderr, fs, args);
  va_end (args);
  fputc ('\n', stderr);
}

/* The handle's errors, in the reference's shape. */
static void
error_cb (gk_h *g, void *opaque, const char *msg)
{
  print_error ("%s", msg);
}

static void
log_cb (gk_h *g, void *opaque, int level, const char *msg)
{
  fprintf (stderr, "%s\n", msg);
}

gk_h *
create_handle (void)
{
  gk_h *g = gk_create ();

  if (g == NULL) {
    fprintf (stderr, "guestfish: %s\n", gk_last_error (NULL));
    return NULL;
  }
  gk_set_error_handler (g, error_cb, NULL);
  gk_set_log_callback (g, log_cb, NULL);
  gk_set_verbose (g, verbose);
  gk_set_trace (g, trace_calls);
  /* guestfish users must run "run" first: no hidden launch. */
  gk_set_autolaunch (g, 0);
  gk_set_engine (g, GK_ENGINE_APPLIANCE);
  if (!autosync)
    gk_set_autosync (g, 0);
  /* At a terminal, Ctrl-C cancels a transfer: it must not reach qemu. */
  if (is_interactive)
    gk_set_pgroup (g, 1);
  if (progress_bars)
    gk_set_progress_callback (g, progress_cb, NULL);
  return g;
}

/* The progress bar of long operations (upload, download, tar, ...):
 * on the terminal (/dev/tty), else standard error, never standard output
 * (where "download FILE -" writes the data).
 */
static FILE *progress_fp;

static int
progress_cb (void *opaque, uint64_t done, uint64_t total)
{
  char bar[41];
  int percent, width = (int) sizeof bar - 1, fill;

  if (total == 0 || progress_fp == NULL)
    return 0;
  percent = done >= total ? 100 : (int) (done * 100 / total);
  fill = percent * width / 100;
  memset (bar, '#', fill);
  memset (bar + fill, '-', width - fill);
  bar[width] = '\0';
  fprintf (progress_fp, "\r%3d%% [%s]%s", percent, bar,
           percent == 100 ? "\n" : "");
  fflush (progress_fp);
  return 0;
}

/* run, and the launch that -i, -m and -N imply. */
int
launch (void)
{
  /* libguestfs's words for launching without a disk. */
  if (gk_nr_drives (h) == 0) {
    print_error ("you must call guestfs_add_drive before guestfs_launch");
    return -1;
  }
  return gk_launch (h);
}

static void
user_cancel (int sig)
{
  if (h)
    gk_user_cancel (h);
}

/* Parse -m's "dev[:mountpoint[:options[:fstype]]]". */
static struct mp
parse_mp (char *arg)
{
  struct mp mp = { .device = arg, .mountpoint = (char *) "/" };
  char *p;

  if ((p = strchr (arg, ':')) != NULL) {
    *p++ = '\0';
    mp.mountpoint = p;
    if ((p = strchr (p, ':')) != NULL) {
      *p++ = '\0';
      mp.options = p;
      if ((p = strchr (p, ':')) != NULL) {
        *p++ = '\0';
        mp.fstype = p;
      }
    }
  }
  return mp;
}

static void
add_drives (drv_vector *drvs)
{
  size_t i, index = 0;
  unsigned rw = read_only ? 0 : GK_DRIVE_READWRITE;

  for (i = 0; i < drvs->len; ++i) {
    struct drv *d = &drvs->ptr[i];
    int r = 0;

    d->first_index = index;
    switch (d->type) {
    case DRV_A:
      if (d->checked && !strstr (d->name, "://") &&
          access (d->name, R_OK) != 0)
        error (EXIT_FAILURE, errno, "access: %s", d->name);
      r = gk_add_drive (h, d->name, d->format, d->blocksize, rw);
      break;
    case DRV_N:
      /* Prepared disks are written, whatever --ro says (as the
       * reference does).
       */
      r = gk_add_drive (h, d->name, "raw", 0, GK_DRIVE_READWRITE);
      break;
    case DRV_D:
      r = gk_add_domain (h, d->name, libvirt_uri, rw);
      break;
    case DRV_VOL: {
      CLEANUP_FREE char *pool = strdup (d->name);
      char *vol = pool ? strchr (pool, '/') : NULL;

      if (vol == NULL)
        error (EXIT_FAILURE, 0, "--vol: ‘%s’ is not POOL/VOLUME", d->name);
      *vol++ = '\0';
      r = gk_add_volume (h, pool, vol, rw);
      break;
    }
    }
    if (r == -1)
      exit (EXIT_FAILURE);
    index = gk_nr_drives (h);
  }
}

static void
mount_mps (mp_vector *mps)
{
  size_t i;

  for (i = 0; i < mps->len; ++i) {
    struct mp *mp = &mps->ptr[i];
    const char *options = mp->options ? mp->options : read_only ? "ro" : "";
    int r;

    r = gk_mount (h, mp->device, mp->mountpoint, options, mp->fstype);
    if (r == -1) {
      CLEANUP_FREE_STRING_LIST char **fses = gk_list_filesystems (h);
      size_t j;

      if (fses && fses[0]) {
        fprintf (stderr, "guestfish: ‘%s’ could not be mounted.\n",
                 mp->device);
        if (mp->options)
          fprintf (stderr, "guestfish: Check mount(8) man page to ensure "
                   "options ‘%s’\nguestfish: are supported by the "
                   "filesystem that is being mounted.\n", mp->options);
        fprintf (stderr, "guestfish: Did you mean to mount one of these "
                 "filesystems?\n");
        for (j = 0; fses[j]; j += 2)
          fprintf (stderr, "guestfish: \t%s (%s)\n", fses[j], fses[j + 1]);
      }
      exit (EXIT_FAILURE);
    }
  }
}

/* --key ID:key:STRING | ID:file:FILENAME | ID:clevis: the reference's
 * syntax and messages.  Decryption itself is not there yet, so a valid
 * selector is then refused too, clearly.
 */
static void
check_key_selector (const char *selector)
{
  CLEANUP_FREE char *copy = strdup (selector);
  char *fields[4] = { NULL };
  size_t n = 0;
  char *p = copy;

  if (copy == NULL)
    error (EXIT_FAILURE, errno, "strdup");
  while (p && *p && n < 4) {
    fields[n++] = p;
    p = strchr (p, ':');
    if (p)
      *p++ = '\0';
  }
  if (p && *p)
    n++;                        /* more than 4 fields */
  if (n < 1)
    error (EXIT_FAILURE, 0, "selector '%s': missing ID", selector);
  if (n < 2)
    error (EXIT_FAILURE, 0, "selector '%s': missing TYPE", selector);
  if (strcmp (fields[1], "key") == 0) {
    if (n != 3)
      error (EXIT_FAILURE, 0,
             "selector '%s': missing KEY_STRING, or too many fields",
             selector);
  }
  else if (strcmp (fields[1], "file") == 0) {
    if (n != 3)
      error (EXIT_FAILURE, 0,
             "selector '%s': missing FILENAME, or too many fields", selector);
  }
  else if (strcmp (fields[1], "clevis") == 0) {
    if (n != 2)
      error (EXIT_FAILURE, 0, "selector '%s': too many fields", selector);
  }
  else
    error (EXIT_FAILURE, 0, "selector '%s': invalid TYPE", selector);
  error (EXIT_FAILURE, 0, "--key: encrypted disks are not supported by "
         "guestkit yet");
}

static void
display_long_options (const struct option *long_options)
{
  for (; long_options->name; ++long_options)
    if (strcmp (long_options->name, "long-options") != 0 &&
        strcmp (long_options->name, "short-options") != 0)
      printf ("--%s\n", long_options->name);
  exit (EXIT_SUCCESS);
}

static void
display_short_options (const char *format)
{
  for (; *format; ++format)
    if (*format != ':')
      printf ("-%c\n", *format);
  exit (EXIT_SUCCESS);
}

int
main (int argc, char *argv[])
{
  enum { HELP_OPTION = CHAR_MAX + 1 };
  static const char options[] = "a:c:d:Df:h::im:nN:rvVwx";
  static const struct option long_options[] = {
    { "add", 1, 0, 'a' },
    { "blocksize", 2, 0, 0 },
    { "cmd-help", 2, 0, 'h' },
    { "connect", 1, 0, 'c' },
    { "csh", 0, 0, 0 },
    { "domain", 1, 0, 'd' },
    { "echo-keys", 0, 0, 0 },
    { "file", 1, 0, 'f' },
    { "format", 2, 0, 0 },
    { "help", 0, 0, HELP_OPTION },
    { "inspector", 0, 0, 'i' },
    { "key", 1, 0, 0 },
    { "keys-from-stdin", 0, 0, 0 },
    { "listen", 0, 0, 0 },
    { "live", 0, 0, 0 },
    { "long-options", 0, 0, 0 },
    { "mount", 1, 0, 'm' },
    { "network", 0, 0, 0 },
    { "new", 1, 0, 'N' },
    { "no-dest-paths", 0, 0, 0 },
    { "no-sync", 0, 0, 'n' },
    { "pipe-error", 0, 0, 0 },
    { "progress-bars", 0, 0, 0 },
    { "no-progress-bars", 0, 0, 0 },
    { "remote", 2, 0, 0 },
    { "ro", 0, 0, 'r' },
    { "rw", 0, 0, 'w' },
    { "selinux", 0, 0, 0 },
    { "short-options", 0, 0, 0 },
    { "verbose", 0, 0, 'v' },
    { "version", 0, 0, 'V' },
    { "vol", 1, 0, 0 },
    { 0, 0, 0, 0 }
  };
  drv_vector drvs = empty_vector;
  mp_vector mps = empty_vector;
  const char *format = NULL, *file = NULL;
  bool format_consumed = true, blocksize_consumed = true;
  int blocksize = 0, c, option_index, inspector = 0, listen = 0;
  int override_progress_bars = -1, next_prepared = 1;
  size_t i;

  setlocale (LC_ALL, "");
  signal (SIGPIPE, SIG_IGN);

  /* Options are parsed before the handle exists; the few that act on
   * it are applied by create_handle.
   */
  for (;;) {
    c = getopt_long (argc, argv, options, long_options, &option_index);
    if (c == -1)
      break;
    switch (c) {
    case 0: {
      const char *n = long_options[option_index].name;

      if (strcmp (n, "long-options") == 0)
        display_long_options (long_options);
      else if (strcmp (n, "short-options") == 0)
        display_short_options (options);
      else if (strcmp (n, "listen") == 0)
        listen = 1;
      else if (strcmp (n, "remote") == 0) {
        const char *p = optarg ? optarg : getenv ("GUESTFISH_PID");

        if (optarg && sscanf (optarg, "%d", &remote_pid) != 1)
          error (EXIT_FAILURE, 0, "--listen=PID: PID was not a number: %s",
                 optarg);
        if (!optarg && (p == NULL || sscanf (p, "%d", &remote_pid) != 1))
          error (EXIT_FAILURE, 0, "remote: $GUESTFISH_PID must be set"
                 " to the PID of the remote process");
      }
      else if (strcmp (n, "progress-bars") == 0)
        override_progress_bars = 1;
      else if (strcmp (n, "no-progress-bars") == 0)
        override_progress_bars = 0;
      else if (strcmp (n, "format") == 0) {
        format = optarg && *optarg && strcmp (optarg, "auto") != 0
          ? optarg : NULL;
        format_consumed = false;
      }
      else if (strcmp (n, "blocksize") == 0) {
        char *end;

        blocksize = optarg ? strtol (optarg, &end, 10) : 0;
        if (optarg && (end == optarg || *end))
          error (EXIT_FAILURE, 0, "--blocksize option is not numeric");
        /* Other sizes fail when the drive is added, as the reference. */
        blocksize_consumed = false;
      }
      else if (strcmp (n, "live") == 0)
        error (EXIT_FAILURE, 0,
               "libguestfs live support was removed in libguestfs 1.48");
      else if (strcmp (n, "pipe-error") == 0)
        pipe_error = 1;
      else if (strcmp (n, "network") == 0)
        network = 1;
      else if (strcmp (n, "no-dest-paths") == 0)
        complete_dest_paths = 0;
      else if (strcmp (n, "vol") == 0)
        drv_vector_append (&drvs, (struct drv) { .type = DRV_VOL,
                                                 .name = optarg });
      else if (strcmp (n, "key") == 0)
        check_key_selector (optarg);
      else if (strcmp (n, "keys-from-stdin") == 0)
        error (EXIT_FAILURE, 0, "--keys-from-stdin: encrypted disks are not "
               "supported by guestkit yet");
      /* --csh, --echo-keys, --selinux: nothing to do. */
      break;
    }
    case 'a':
      drv_vector_append (&drvs, (struct drv) { .type = DRV_A, .name = optarg,
                                               .checked = true,
                                               .format = format,
                                               .blocksize = blocksize });
      format_consumed = blocksize_consumed = true;
      break;
    case 'c':
      libvirt_uri = optarg;
      break;
    case 'd':
      drv_vector_append (&drvs, (struct drv) { .type = DRV_D,
                                               .name = optarg });
      break;
    case 'D':
      fprintf (stderr, "guestfish: warning: -D option is deprecated, use "
               "--no-dest-paths instead\n");
      complete_dest_paths = 0;
      break;
    case 'f':
      if (file)
        error (EXIT_FAILURE, 0, "only one -f parameter can be given");
      file = optarg;
      break;
    case 'h': {
      int r = 0;

      if (optarg)
        r = display_command (optarg);
      else if (argv[optind] && argv[optind][0] != '-')
        r = display_command (argv[optind++]);
      else
        list_commands ();
      exit (r == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
    }
    case 'i':
      inspector = 1;
      break;
    case 'm':
      mp_vector_append (&mps, parse_mp (optarg));
      break;
    case 'n':
      autosync = 0;
      break;
    case 'N': {
      char *p, *name;
      struct prep *prep;

      if (strcasecmp (optarg, "list") == 0 || strcasecmp (optarg, "help") == 0 ||
          strcasecmp (optarg, "h") == 0 || strcmp (optarg, "?") == 0) {
        list_prepared_drives ();
        exit (EXIT_SUCCESS);
      }
      p = strchr (optarg, '=');
      if (p) {
        *p++ = '\0';
        name = optarg;
      }
      else {
        if (asprintf (&name, "test%d.img", next_prepared) == -1)
          error (EXIT_FAILURE, errno, "asprintf");
        p = optarg;
      }
      prep = create_prepared_file (p, name);
      if (prep == NULL)
        exit (EXIT_FAILURE);
      drv_vector_append (&drvs, (struct drv) { .type = DRV_N, .name = name,
                                               .prep = prep });
      next_prepared++;
      break;
    }
    case 'r':
      read_only = 1;
      break;
    case 'v':
      verbose++;
      break;
    case 'V':
      printf ("guestfish %s (guestkit %s)\n", PACKAGE_VERSION, gk_version ());
      exit (EXIT_SUCCESS);
    case 'w':
      if (read_only) {
        fprintf (stderr, "guestfish: cannot mix --ro and --rw options\n");
        exit (EXIT_FAILURE);
      }
      break;
    case 'x':
      trace_calls = 1;
      break;
    case HELP_OPTION:
      usage (EXIT_SUCCESS);
    default:
      usage (EXIT_FAILURE);
    }
  }

  is_interactive = !file && isatty (0);
  h = create_handle ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  (void) network;               /* the appliance has no network (yet) */

  if (is_interactive) {
    struct sigaction sa = { .sa_handler = user_cancel, .sa_flags = SA_RESTART };

    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGQUIT, &sa, NULL);
  }

  /* The old "guestfish -i disk.img|domain" syntax. */
  if (inspector && drvs.len == 0 && optind < argc) {
    for (; optind < argc; optind++)
      drv_vector_append (&drvs, (struct drv) {
          .type = strchr (argv[optind], '/') ||
                  access (argv[optind], F_OK) == 0 ? DRV_A : DRV_D,
          .name = argv[optind] });
  }
  if (!format_consumed) {
    fprintf (stderr, "guestfish: --format parameter must appear before -a "
             "parameter\n");
    exit (EXIT_FAILURE);
  }
  if (!blocksize_consumed) {
    fprintf (stderr, "guestfish: --blocksize parameter must appear before "
             "-a parameter\n");
    exit (EXIT_FAILURE);
  }

  initialize_readline ();
  add_drives (&drvs);

  if (next_prepared > 1 || mps.len > 0 || inspector) {
    if (launch () == -1)
      exit (EXIT_FAILURE);
    if (inspector && inspect_mount () == -1)
      exit (EXIT_FAILURE);
    for (i = 0; i < drvs.len; ++i)
      if (drvs.ptr[i].type == DRV_N) {
        char dev[32];
        size_t n = drvs.ptr[i].first_index;

        /* sda .. sdz, sdaa ... as the appliance names them. */
        if (n < 26)
          snprintf (dev, sizeof dev, "/dev/sd%c", (char) ('a' + n));
        else
          snprintf (dev, sizeof dev, "/dev/sd%c%c", (char) ('a' + n / 26 - 1),
                    (char) ('a' + n % 26));
        if (prepare_drive (drvs.ptr[i].prep, dev) == -1)
          exit (EXIT_FAILURE);
      }
    mount_mps (&mps);
  }
  for (i = 0; i < drvs.len; ++i)
    free_prep (drvs.ptr[i].prep);
  free (drvs.ptr);
  free (mps.ptr);

  if (listen && remote_pid)
    error (EXIT_FAILURE, 0,
           "cannot use --listen and --remote options at the same time");
  if (listen) {
    if (optind < argc)
      error (EXIT_FAILURE, 0,
             "extra parameters on the command line with --listen flag");
    if (file)
      error (EXIT_FAILURE, 0,
             "cannot use --listen and --file options at the same time");
    rc_listen ();
  }

  if (file) {
    close (0);
    if (open (file, O_RDONLY | O_CLOEXEC) == -1)
      error (EXIT_FAILURE, errno, "open: %s", file);
  }
  if (!is_interactive)
    input_file = file ? file : "*stdin*";
  input_lineno = 0;

  progress_bars = override_progress_bars >= 0 ? override_progress_bars
    : (optind >= argc && is_interactive);
  if (progress_bars) {
    progress_fp = fopen ("/dev/tty", "we");
    if (progress_fp == NULL)
      progress_fp = stderr;
    gk_set_progress_callback (h, progress_cb, NULL);
  }

  if (optind >= argc)
    script (is_interactive);
  else
    cmdline (argv, optind, argc);

  cleanup_readline ();
  if (gk_shutdown (h) == -1)
    exit (EXIT_FAILURE);
  gk_close (h);
  exit (EXIT_SUCCESS);
}
