/* guestmount: mount a guest's filesystems on a host directory (FUSE).
 *
 * Drop-in compatible with libguestfs's guestmount (options, messages,
 * exit codes).  The FUSE filesystem itself is libguestkit's mount-local
 * (gk_mount_local, lib/mount-local.c); this program parses options, adds
 * the drives, mounts the guest's filesystems, then serves the mount.
 *
 * Forking: unlike libguestfs's guestmount, which forks after the
 * appliance is up (so the process that serves the mount is not the one
 * that started qemu), we fork first.  The child does all the work and
 * tells the parent through a pipe when the mount is ready; the parent
 * then exits 0 (or 1 if the child failed, whose messages are already on
 * stderr).  So the PID in the pid file and in the mount's fsname is the
 * process that serves the mount and owns the appliance: when it has
 * exited, the disk images are released (guestunmount waits for that).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <getopt.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "guestkit.h"
#include "cleanups.h"

static const char *progname = "guestmount";
static gk_h *h;
static bool read_only, read_write;

struct drv {
  enum { DRV_A, DRV_D, DRV_VOL } type;
  const char *name;
  const char *format;           /* -a only */
  int blocksize;                /* -a only */
};

struct mp {
  char *device;
  char *mountpoint;
  char *options;
  char *fstype;
};

static void __attribute__ ((noreturn))
usage (int status)
{
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", progname);
  else
    printf ("%s: FUSE module for guestkit\n"
            "%s lets you mount a virtual machine filesystem\n"
            "Usage:\n"
            "  %s [--options] mountpoint\n"
            "Options:\n"
            "  -a|--add image       Add image\n"
            "  --blocksize[=512|4096]\n"
            "                       Set sector size of the disk for -a option\n"
            "  -c|--connect uri     Specify libvirt URI for -d option\n"
            "  --dir-cache-timeout  Set the metadata cache timeout (default 60 sec)\n"
            "  -d|--domain guest    Add disks from libvirt guest\n"
            "  --echo-keys          Don't turn off echo for passphrases\n"
            "  --fd=FD              Write to pipe FD when mountpoint is ready\n"
            "  --format[=raw|..]    Force disk format for -a option\n"
            "  --fuse-help          Display extra FUSE options\n"
            "  -i|--inspector       Automatically mount filesystems\n"
            "  --help               Display help message and exit\n"
            "  --key selector       Specify a LUKS key\n"
            "  --keys-from-stdin    Read passphrases from stdin\n"
            "  -m|--mount dev[:mnt[:opts[:fstype]] Mount dev on mnt (if omitted, /)\n"
            "  --no-fork            Don't daemonize\n"
            "  -n|--no-sync         Don't autosync\n"
            "  -o|--option opt      Pass extra option to FUSE\n"
            "  --pid-file filename  Write PID to filename\n"
            "  -r|--ro              Mount read-only\n"
            "  --selinux            For backwards compat only, does nothing\n"
            "  -v|--verbose         Verbose messages\n"
            "  -V|--version         Display version and exit\n"
            "  -w|--rw              Mount read-write\n"
            "  -x|--trace           Trace guestkit calls and FUSE requests\n"
            "  --vol pool/volume    Add a guestkit pool volume\n",
            progname, progname, progname);
  exit (status);
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

/* libguestfs's --key syntax; decryption is not there yet. */
static void
check_key_selector (const char *selector)
{
  const char *type = strchr (selector, ':');

  if (*selector == '\0' || type == selector)
    error (EXIT_FAILURE, 0, "selector '%s': missing ID", selector);
  if (type == NULL || type[1] == '\0')
    error (EXIT_FAILURE, 0, "selector '%s': missing TYPE", selector);
  error (EXIT_FAILURE, 0, "--key: encrypted disks are not supported by "
         "guestkit yet");
}

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

/* Fail early (before the appliance's 15 s) on a bad mountpoint. */
static void
check_mountpoint (const char *dir)
{
  struct stat st;
  DIR *d;
  struct dirent *de;

  if (stat (dir, &st) == -1)
    error (EXIT_FAILURE, errno, "%s", dir);
  if (!S_ISDIR (st.st_mode))
    error (EXIT_FAILURE, 0, "%s: the mountpoint is not a directory", dir);
  d = opendir (dir);
  if (d == NULL)
    error (EXIT_FAILURE, errno, "%s", dir);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      error (EXIT_FAILURE, 0, "%s: the mountpoint is not empty", dir);
  closedir (d);
}

static void
add_drives (struct drv *drvs, size_t ndrvs, const char *libvirt_uri)
{
  size_t i;
  unsigned rw = read_only ? 0 : GK_DRIVE_READWRITE;

  for (i = 0; i < ndrvs; ++i) {
    struct drv *d = &drvs[i];
    int r = 0;

    switch (d->type) {
    case DRV_A:
      if (!strstr (d->name, "://") && access (d->name, R_OK) != 0)
        error (EXIT_FAILURE, errno, "access: %s", d->name);
      r = gk_add_drive (h, d->name, d->format, d->blocksize, rw);
      break;
    case DRV_D:
      gk_push_error_handler (h, NULL, NULL);
      r = gk_add_domain (h, d->name, libvirt_uri, rw);
      gk_pop_error_handler (h);
      /* A running domain: read-only unless --rw was asked for. */
      if (r == -1 && rw && !read_write && gk_last_errno (h) == EBUSY) {
        read_only = true;
        rw = 0;
        r = gk_add_domain (h, d->name, libvirt_uri, 0);
      }
      else if (r == -1)
        fprintf (stderr, "%s: %s\n", progname, gk_last_error (h));
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
  }
}

static void
mount_mps (struct mp *mps, size_t nmps)
{
  size_t i, j;

  for (i = 0; i < nmps; ++i) {
    struct mp *mp = &mps[i];
    const char *options = mp->options ? mp->options : read_only ? "ro" : "";

    if (gk_mount_local_add (h, mp->device, mp->mountpoint, options,
                            mp->fstype) == -1) {
      CLEANUP_FREE_STRING_LIST char **fses = NULL;

      /* The hint costs nothing only if the appliance is up already. */
      if (gk_is_launched (h)) {
        gk_push_error_handler (h, NULL, NULL);
        fses = gk_list_filesystems (h);
        gk_pop_error_handler (h);
      }
      if (fses && fses[0]) {
        fprintf (stderr, "%s: ‘%s’ could not be mounted.\n", progname,
                 mp->device);
        if (mp->options)
          fprintf (stderr, "%s: Check mount(8) man page to ensure options "
                   "‘%s’\n%s: are supported by the filesystem that is being "
                   "mounted.\n", progname, mp->options, progname);
        fprintf (stderr, "%s: Did you mean to mount one of these "
                 "filesystems?\n", progname);
        for (j = 0; fses[j]; j += 2)
          fprintf (stderr, "%s: \t%s (%s)\n", progname, fses[j], fses[j + 1]);
      }
      exit (EXIT_FAILURE);
    }
  }
}

static int
compare_keys_len (const void *a, const void *b)
{
  const char *ka = *(char *const *) a, *kb = *(char *const *) b;
  int c = (int) strlen (ka) - (int) strlen (kb);

  return c ? c : strcmp (ka, kb);
}

/* -i: the root's filesystems, shortest mountpoint first. */
static void
inspect_mount (void)
{
  CLEANUP_FREE_STRING_LIST char **roots = gk_inspect_os (h);
  CLEANUP_FREE_STRING_LIST char **mps = NULL;
  size_t i, n;

  if (roots == NULL)
    exit (EXIT_FAILURE);
  if (roots[0] == NULL || roots[1] != NULL) {
    fprintf (stderr, "%s: %s\n\n"
             "If using guestmount ‘-i’, remove this option and choose the\n"
             "filesystem(s) you want to see by manually adding ‘-m’ option(s).\n"
             "Use ‘virt-filesystems’ to see what filesystems are available.\n",
             progname,
             roots[0] == NULL ? "no operating system was found on this disk"
             : "multi-boot operating systems are not supported");
    exit (EXIT_FAILURE);
  }
  mps = gk_inspect_get_mountpoints (h, roots[0]);
  if (mps == NULL)
    exit (EXIT_FAILURE);
  for (n = 0; mps[n]; n += 2)
    ;
  qsort (mps, n / 2, 2 * sizeof (char *), compare_keys_len);
  for (i = 0; mps[i]; i += 2)
    if (gk_mount_local_add (h, mps[i + 1], mps[i], read_only ? "ro" : "",
                            NULL) == -1 &&
        strcmp (mps[i], "/") == 0)
      exit (EXIT_FAILURE);
}

static int
write_pid_file (const char *pid_file, pid_t pid)
{
  FILE *fp;

  if (pid_file == NULL)
    return 0;
  fp = fopen (pid_file, "w");
  if (fp == NULL || fprintf (fp, "%d\n", (int) pid) < 0) {
    perror (pid_file);
    if (fp)
      fclose (fp);
    return -1;
  }
  if (fclose (fp) == EOF) {
    perror (pid_file);
    return -1;
  }
  return 0;
}

static int
write_pipe_fd (int fd)
{
  char c = 0;

  if (fd < 0)
    return 0;
  if (write (fd, &c, 1) != 1) {
    perror ("write (--fd option)");
    return -1;
  }
  if (close (fd) == -1) {
    perror ("close (--fd option)");
    return -1;
  }
  return 0;
}

/* Fork now: the parent waits until the child says the mount is ready
 * (one byte on the pipe) and exits 0, or 1 if the pipe closes first.
 * The child gets the pipe's write end.
 */
static int
fork_and_wait (void)
{
  int fds[2];
  pid_t pid;
  char c;
  ssize_t r;
  int status;

  if (pipe2 (fds, O_CLOEXEC) == -1)
    error (EXIT_FAILURE, errno, "pipe");
  fflush (NULL);
  pid = fork ();
  if (pid == -1)
    error (EXIT_FAILURE, errno, "fork");
  if (pid == 0) {
    close (fds[0]);
    return fds[1];
  }
  close (fds[1]);
  do
    r = read (fds[0], &c, 1);
  while (r == -1 && errno == EINTR);
  if (r == 1)
    _exit (EXIT_SUCCESS);
  /* The child failed: its messages are on stderr.  Reap it. */
  if (waitpid (pid, &status, 0) == pid && WIFEXITED (status) &&
      WEXITSTATUS (status) != 0)
    _exit (WEXITSTATUS (status));
  _exit (EXIT_FAILURE);
}

/* The child, once the mount is ready: tell the parent, then detach as
 * a daemon does.
 */
static void
detach (int ready_fd)
{
  int fd;

  if (setsid () == -1)
    error (EXIT_FAILURE, errno, "setsid");
  if (chdir ("/") == -1)
    error (EXIT_FAILURE, errno, "chdir");
  fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    dup2 (fd, 0);
    dup2 (fd, 1);
    dup2 (fd, 2);
    if (fd > 2)
      close (fd);
  }
  if (write_pipe_fd (ready_fd) == -1)
    _exit (EXIT_FAILURE);
}

int
main (int argc, char *argv[])
{
  static const char options[] = "a:c:d:im:no:rvVwx";
  static const struct option long_options[] = {
    { "add", 1, 0, 'a' },
    { "blocksize", 2, 0, 0 },
    { "connect", 1, 0, 'c' },
    { "dir-cache-timeout", 1, 0, 0 },
    { "domain", 1, 0, 'd' },
    { "echo-keys", 0, 0, 0 },
    { "fd", 1, 0, 0 },
    { "format", 2, 0, 0 },
    { "fuse-help", 0, 0, 0 },
    { "help", 0, 0, 'H' },
    { "inspector", 0, 0, 'i' },
    { "key", 1, 0, 0 },
    { "keys-from-stdin", 0, 0, 0 },
    { "live", 0, 0, 0 },
    { "long-options", 0, 0, 0 },
    { "mount", 1, 0, 'm' },
    { "no-fork", 0, 0, 0 },
    { "no-sync", 0, 0, 'n' },
    { "option", 1, 0, 'o' },
    { "pid-file", 1, 0, 0 },
    { "ro", 0, 0, 'r' },
    { "rw", 0, 0, 'w' },
    { "selinux", 0, 0, 0 },
    { "short-options", 0, 0, 0 },
    { "trace", 0, 0, 'x' },
    { "verbose", 0, 0, 'v' },
    { "version", 0, 0, 'V' },
    { "vol", 1, 0, 0 },
    { 0, 0, 0, 0 }
  };
  struct drv *drvs = NULL;
  size_t ndrvs = 0;
  struct mp *mps = NULL;
  size_t nmps = 0;
  const char *format = NULL, *libvirt_uri = NULL, *pid_file = NULL;
  CLEANUP_FREE char *fuse_options = NULL;
  int blocksize = 0, c, option_index, dir_cache_timeout = -1;
  int pipe_fd = -1, ready_fd = -1, r;
  bool inspector = false, do_fork = true, debug_calls = false;
  bool no_sync = false;
  bool format_consumed = true, blocksize_consumed = true;
  CLEANUP_FREE char *abs_pid_file = NULL;
  const char *mountpoint;
  unsigned flags = 0;

  h = gk_create ();
  if (h == NULL)
    error (EXIT_FAILURE, 0, "gk_create: %s", gk_last_error (NULL));

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
      else if (strcmp (n, "dir-cache-timeout") == 0) {
        char *end;
        long v;

        errno = 0;
        v = strtol (optarg, &end, 10);
        if (errno || *end || end == optarg || v < 0 || v > INT_MAX)
          error (EXIT_FAILURE, 0, "could not parse --dir-cache-timeout "
                 "parameter: %s", optarg);
        /* libguestfs's guestmount ignores 0 (keeps its default); so do
         * we.
         */
        if (v > 0)
          dir_cache_timeout = v;
      }
      else if (strcmp (n, "fuse-help") == 0) {
        printf ("%s: FUSE options (-o OPTION):\n"
                "    allow_other, allow_root, default_permissions,\n"
                "    uid=N, gid=N, umask=M, kernel_cache, auto_cache,\n"
                "    entry_timeout=T, attr_timeout=T, negative_timeout=T,\n"
                "    max_read=N, noforget, remember=T, ...\n"
                "See mount.fuse3(8) for the full list.\n", progname);
        exit (EXIT_SUCCESS);
      }
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
      else if (strcmp (n, "fd") == 0) {
        char *end;
        long v;

        errno = 0;
        v = strtol (optarg, &end, 10);
        if (errno || *end || end == optarg || v < 0 || v > INT_MAX)
          error (EXIT_FAILURE, 0, "unable to parse --fd option value: %s",
                 optarg);
        pipe_fd = v;
      }
      else if (strcmp (n, "pid-file") == 0)
        pid_file = optarg;
      else if (strcmp (n, "no-fork") == 0)
        do_fork = false;
      else if (strcmp (n, "key") == 0)
        check_key_selector (optarg);
      else if (strcmp (n, "keys-from-stdin") == 0)
        error (EXIT_FAILURE, 0, "--keys-from-stdin: encrypted disks are not "
               "supported by guestkit yet");
      else if (strcmp (n, "live") == 0)
        error (EXIT_FAILURE, 0,
               "libguestfs live support was removed in libguestfs 1.48");
      else if (strcmp (n, "vol") == 0) {
        drvs = realloc (drvs, (ndrvs + 1) * sizeof *drvs);
        if (drvs == NULL)
          error (EXIT_FAILURE, errno, "realloc");
        drvs[ndrvs++] = (struct drv) { .type = DRV_VOL, .name = optarg };
      }
      /* --echo-keys, --selinux: nothing to do. */
      break;
    }
    case 'a':
      drvs = realloc (drvs, (ndrvs + 1) * sizeof *drvs);
      if (drvs == NULL)
        error (EXIT_FAILURE, errno, "realloc");
      drvs[ndrvs++] = (struct drv) { .type = DRV_A, .name = optarg,
                                     .format = format,
                                     .blocksize = blocksize };
      format_consumed = blocksize_consumed = true;
      break;
    case 'c':
      libvirt_uri = optarg;
      break;
    case 'd':
      drvs = realloc (drvs, (ndrvs + 1) * sizeof *drvs);
      if (drvs == NULL)
        error (EXIT_FAILURE, errno, "realloc");
      drvs[ndrvs++] = (struct drv) { .type = DRV_D, .name = optarg };
      break;
    case 'i':
      inspector = true;
      break;
    case 'm':
      mps = realloc (mps, (nmps + 1) * sizeof *mps);
      if (mps == NULL)
        error (EXIT_FAILURE, errno, "realloc");
      mps[nmps++] = parse_mp (optarg);
      break;
    case 'n':
      no_sync = true;
      break;
    case 'o': {
      char *p;

      if (asprintf (&p, "%s%s%s", fuse_options ? fuse_options : "",
                    fuse_options ? "," : "", optarg) == -1)
        error (EXIT_FAILURE, errno, "asprintf");
      free (fuse_options);
      fuse_options = p;
      break;
    }
    case 'r':
      read_only = true;
      read_write = false;
      break;
    case 'w':
      read_write = true;
      read_only = false;
      break;
    case 'v':
      gk_set_verbose (h, 1);
      break;
    case 'V':
      printf ("%s %s\n", progname, gk_version ());
      exit (EXIT_SUCCESS);
    case 'x':
      debug_calls = true;
      do_fork = false;
      gk_set_trace (h, 1);
      break;
    case 'H':
      usage (EXIT_SUCCESS);
    default:
      usage (EXIT_FAILURE);
    }
  }

  if (!format_consumed) {
    fprintf (stderr, "%s: --format parameter must appear before -a "
             "parameter\n", progname);
    exit (EXIT_FAILURE);
  }
  if (!blocksize_consumed) {
    fprintf (stderr, "%s: --blocksize parameter must appear before -a "
             "parameter\n", progname);
    exit (EXIT_FAILURE);
  }
  if (ndrvs == 0) {
    fprintf (stderr, "%s: error: you must specify at least one -a or -d "
             "option.\n", progname);
    usage (EXIT_FAILURE);
  }
  if (nmps == 0 && !inspector) {
    fprintf (stderr, "%s: error: you must specify either -i at least one -m "
             "option.\n", progname);
    usage (EXIT_FAILURE);
  }
  if (optind + 1 != argc)
    error (EXIT_FAILURE, 0,
           "you must specify a mountpoint in the host filesystem");
  mountpoint = argv[optind];
  check_mountpoint (mountpoint);
  /* The daemon works in "/": the pid file's name must not depend on
   * the current directory.
   */
  if (pid_file && pid_file[0] != '/') {
    CLEANUP_FREE char *cwd = getcwd (NULL, 0);

    if (cwd == NULL || asprintf (&abs_pid_file, "%s/%s", cwd, pid_file) == -1)
      error (EXIT_FAILURE, errno, "--pid-file %s", pid_file);
    pid_file = abs_pid_file;
  }

  if (do_fork)
    ready_fd = fork_and_wait ();

  /* Ctrl-C must reach us (to unmount and sync), not qemu. */
  gk_set_pgroup (h, 1);
  if (no_sync)
    gk_set_autosync (h, 0);
  add_drives (drvs, ndrvs, libvirt_uri);
  if (inspector)
    inspect_mount ();
  mount_mps (mps, nmps);

  if (read_only)
    flags |= GK_MOUNT_LOCAL_READONLY;
  if (debug_calls)
    flags |= GK_MOUNT_LOCAL_DEBUG_CALLS;
  if (gk_mount_local (h, mountpoint, fuse_options, dir_cache_timeout,
                      flags) == -1)
    exit (EXIT_FAILURE);

  if (write_pid_file (pid_file, getpid ()) == -1 ||
      write_pipe_fd (pipe_fd) == -1) {
    gk_umount_local (h);
    exit (EXIT_FAILURE);
  }
  if (do_fork)
    detach (ready_fd);

  r = gk_mount_local_run (h);
  if (gk_shutdown (h) == -1)
    r = -1;
  gk_close (h);
  /* Only now are the disks released: then the pid file goes. */
  if (pid_file)
    unlink (pid_file);
  free (drvs);
  free (mps);
  exit (r == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
