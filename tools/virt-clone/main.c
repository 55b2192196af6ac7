/* virt-clone: clone a libvirt domain.
 *
 * Options, messages and exit codes are those of virt-manager's virt-clone
 * (virtinst 4.1): errors are "ERROR    message" on stderr and exit 1.
 * libguestkit does the work (gk_clone_domain, lib/clone.c); this file
 * parses the options, shows progress and catches SIGINT/SIGTERM so that
 * the library can undo what it made.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <getopt.h>
#include <errno.h>
#include <error.h>
#include <signal.h>
#include <time.h>
#include <locale.h>
#include <limits.h>
#include <stdarg.h>

#include "guestkit.h"
#include "vector.h"
#include "cleanups.h"

DEFINE_VECTOR_TYPE (const_string_vector, const char *);

static gk_h *h;
static int quiet, debug_flag;

static void __attribute__ ((noreturn, format (printf, 1, 2)))
fail (const char *fs, ...)
{
  va_list args;

  fprintf (stderr, "ERROR    ");
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\n");
  exit (EXIT_FAILURE);
}

static void
print_error (gk_h *g, void *opaque, const char *msg)
{
  fprintf (stderr, "ERROR    %s\n", msg);
}

static void
log_message (gk_h *g, void *opaque, int level, const char *msg)
{
  if (level == GK_LOG_WARNING) {
    if (!quiet)
      fprintf (stderr, "WARNING  %s\n", msg);
  }
  else
    fprintf (stderr, "DEBUG    %s\n", msg);
}

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = program_invocation_short_name;

  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "usage: %s --original [NAME] ...\n"
             "Try ‘%s --help’ for more information.\n", p, p);
    exit (2);
  }
  printf ("usage: %s --original [NAME] ...\n"
"\n"
"Duplicate a virtual machine, changing all the unique host side\n"
"configuration like MAC address, name, etc.  Disks are copied under\n"
"temporary names and the new domain is defined last: a failure or an\n"
"interrupt leaves nothing behind.\n"
"\n"
"options:\n"
"  -h, --help            show this help message and exit\n"
"  --version             show program's version number and exit\n"
"  --connect URI         Connect to hypervisor with libvirt URI\n"
"\n"
"General Options:\n"
"  -o SRC_NAME, --original SRC_NAME\n"
"                        Name of the original guest to clone.\n"
"  --original-xml ORIGINAL_XML\n"
"                        XML file to use as the original guest.\n"
"  --auto-clone          Auto generate clone name and storage paths from\n"
"                        the original guest configuration.\n"
"  -n NEW_NAME, --name NEW_NAME\n"
"                        Name for the new guest\n"
"  -u NEW_UUID, --uuid NEW_UUID\n"
"                        UUID for the new guest (default: random)\n"
"  --reflink             Copy with reflinks (any format); fail if one is\n"
"                        impossible\n"
"\n"
"Storage Configuration:\n"
"  -f NEW_DISKFILE, --file NEW_DISKFILE\n"
"                        New file (or guestkit POOL/VOLUME) to use as the\n"
"                        disk image for the new guest\n"
"  --force-copy TARGET   Force to copy devices (eg, if 'hdc' is a readonly\n"
"                        cdrom device, --force-copy=hdc)\n"
"  --skip-copy SKIP_COPY\n"
"                        Skip copy of the device target.\n"
"  --nonsparse           Do not use a sparse file for the clone's disk image\n"
"  --preserve-data       Do not clone storage contents to specified file\n"
"                        paths, their contents will be left untouched.\n"
"  --nvram NEW_NVRAM     New file to use as storage for nvram VARS\n"
"  --pool POOL           Clone pool volumes into this guestkit pool\n"
"  --linked              Linked clones: qcow2 overlays backed by the\n"
"                        original, or layered rbd clones\n"
"\n"
"Networking Configuration:\n"
"  -m NEW_MAC, --mac NEW_MAC\n"
"                        New fixed MAC address for the clone guest. Default\n"
"                        is a randomly generated MAC\n"
"\n"
"Miscellaneous Options:\n"
"  --replace             Replace a guest with the same name, once the\n"
"                        clone is ready.\n"
"  --print-xml           Print the generated domain XML rather than create\n"
"                        the guest.\n"
"  --check CHECK         Enable or disable validation checks. Example:\n"
"                        --check path_in_use=off\n"
"                        --check all=off\n"
"  -q, --quiet           Suppress non-error output\n"
"  -d, --debug           Print debugging information\n"
"\n"
"See man page %s(1) for examples and full option syntax.\n", p, p);
  exit (EXIT_SUCCESS);
}

static void __attribute__ ((noreturn))
display_long_options (const struct option *lo)
{
  for (; lo->name; ++lo)
    if (strcmp (lo->name, "long-options") != 0 &&
        strcmp (lo->name, "short-options") != 0)
      printf ("--%s\n", lo->name);
  exit (EXIT_SUCCESS);
}

static void __attribute__ ((noreturn))
display_short_options (const char *format)
{
  for (; *format; ++format)
    if (*format != ':' && *format != '+')
      printf ("-%c\n", *format);
  exit (EXIT_SUCCESS);
}

/* --check name=on|off[,name=on|off...]; "all" sets every check. */
static void
parse_check (const char *arg, unsigned *checks)
{
  CLEANUP_FREE char *copy = strdup (arg);
  char *tok, *save = NULL;
  static const struct { const char *name; unsigned bit; } names[] = {
    { "path_in_use", GK_CLONE_CHECK_PATH_IN_USE },
    { "disk_size", GK_CLONE_CHECK_DISK_SIZE },
    { "path_exists", GK_CLONE_CHECK_PATH_EXISTS },
    { "mac_in_use", GK_CLONE_CHECK_MAC_IN_USE },
    { "all", GK_CLONE_CHECK_ALL },
  };

  if (copy == NULL)
    error (EXIT_FAILURE, errno, "strdup");
  for (tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save)) {
    char *eq = strchr (tok, '=');
    bool on;
    size_t i;

    if (eq == NULL)
      fail ("Unknown --check options: ['%s']", tok);
    *eq++ = '\0';
    if (strcasecmp (eq, "on") == 0 || strcasecmp (eq, "yes") == 0 ||
        strcasecmp (eq, "true") == 0 || strcmp (eq, "1") == 0)
      on = true;
    else if (strcasecmp (eq, "off") == 0 || strcasecmp (eq, "no") == 0 ||
             strcasecmp (eq, "false") == 0 || strcmp (eq, "0") == 0)
      on = false;
    else
      fail ("Unknown --check value '%s' for '%s' (use on or off)", eq, tok);
    for (i = 0; i < sizeof names / sizeof names[0]; ++i)
      if (strcmp (names[i].name, tok) == 0)
        break;
    if (i == sizeof names / sizeof names[0])
      fail ("Unknown --check options: ['%s']", tok);
    if (on)
      *checks |= names[i].bit;
    else
      *checks &= ~names[i].bit;
  }
}

/* Progress on stderr when it is a terminal. */
static const char *copy_name;
static uint64_t copy_size;
static time_t copy_t0;
static bool show_bar;
static int last_pct = -1;

static void
copy_start (void *opaque, const char *path, uint64_t size)
{
  const char *slash = strrchr (path, '/');

  copy_name = slash ? slash + 1 : path;
  copy_size = size;
  copy_t0 = time (NULL);
  last_pct = -1;
  if (!quiet && !show_bar)
    printf ("Allocating '%s'\n", copy_name);
  /* A pool volume's clone (size 0 here) reports no progress: a line. */
  else if (show_bar && size == 0)
    fprintf (stderr, "Allocating '%s'\n", copy_name);
}

static int
progress (void *opaque, uint64_t done, uint64_t total)
{
  int pct = total ? (int) (done * 100 / total) : 100, i;

  if (!show_bar || pct == last_pct)
    return 0;
  last_pct = pct;
  fprintf (stderr, "\rAllocating '%s' [", copy_name);
  for (i = 0; i < 30; ++i)
    fputc (i < pct * 30 / 100 ? '#' : ' ', stderr);
  fprintf (stderr, "] %3d%% %5.0f MiB %lds%s", pct,
           total / 1048576.0, (long) (time (NULL) - copy_t0),
           done == total ? "\n" : "");
  return 0;
}

static void
on_signal (int sig)
{
  if (h)
    gk_user_cancel (h);
}

static char *
read_file (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *buf = NULL;
  size_t len = 0;

  if (fp == NULL)
    fail ("Could not read %s: %m", path);
  {
    FILE *mem = open_memstream (&buf, &len);
    char chunk[65536];
    size_t n;
    if (mem == NULL)
      fail ("open_memstream: %m");
    while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0)
      fwrite (chunk, 1, n, mem);
    fclose (mem);
  }
  if (ferror (fp))
    fail ("Could not read %s: %m", path);
  fclose (fp);
  return buf;
}

int
main (int argc, char *argv[])
{
  enum { HELP_OPTION = CHAR_MAX + 1, VERSION_OPTION, CONNECT_OPTION,
         ORIGINAL_XML_OPTION, AUTO_CLONE_OPTION, REFLINK_OPTION,
         FORCE_COPY_OPTION, SKIP_COPY_OPTION, NONSPARSE_OPTION,
         PRESERVE_OPTION, NVRAM_OPTION, POOL_OPTION, LINKED_OPTION,
         REPLACE_OPTION, PRINT_XML_OPTION, CHECK_OPTION,
         LONG_OPTIONS, SHORT_OPTIONS };
  static const char options[] = "ho:n:u:f:m:qd";
  static const struct option long_options[] = {
    { "help", 0, 0, HELP_OPTION },
    { "version", 0, 0, VERSION_OPTION },
    { "connect", 1, 0, CONNECT_OPTION },
    { "original", 1, 0, 'o' },
    { "original-xml", 1, 0, ORIGINAL_XML_OPTION },
    { "auto-clone", 0, 0, AUTO_CLONE_OPTION },
    { "name", 1, 0, 'n' },
    { "uuid", 1, 0, 'u' },
    { "reflink", 0, 0, REFLINK_OPTION },
    { "file", 1, 0, 'f' },
    { "force-copy", 1, 0, FORCE_COPY_OPTION },
    { "skip-copy", 1, 0, SKIP_COPY_OPTION },
    { "nonsparse", 0, 0, NONSPARSE_OPTION },
    { "preserve-data", 0, 0, PRESERVE_OPTION },
    { "nvram", 1, 0, NVRAM_OPTION },
    { "pool", 1, 0, POOL_OPTION },
    { "linked", 0, 0, LINKED_OPTION },
    { "mac", 1, 0, 'm' },
    { "replace", 0, 0, REPLACE_OPTION },
    { "print-xml", 0, 0, PRINT_XML_OPTION },
    { "check", 1, 0, CHECK_OPTION },
    { "quiet", 0, 0, 'q' },
    { "debug", 0, 0, 'd' },
    { "long-options", 0, 0, LONG_OPTIONS },
    { "short-options", 0, 0, SHORT_OPTIONS },
    { 0, 0, 0, 0 }
  };
  struct gk_clone_params p = { .checks = GK_CLONE_CHECK_ALL };
  const_string_vector files = empty_vector, macs = empty_vector;
  const_string_vector force = empty_vector, skip = empty_vector;
  const char *original_xml_file = NULL;
  CLEANUP_FREE char *original_xml = NULL;
  bool print_xml = false;
  struct sigaction sa;
  int c;

  setlocale (LC_ALL, "");

  for (;;) {
    c = getopt_long (argc, argv, options, long_options, NULL);
    if (c == -1)
      break;
    switch (c) {
    case HELP_OPTION: case 'h': usage (EXIT_SUCCESS);
    case VERSION_OPTION:
      printf ("%s\n", PACKAGE_VERSION);
      exit (EXIT_SUCCESS);
    case CONNECT_OPTION: p.connect = optarg; break;
    case 'o': p.original = optarg; break;
    case ORIGINAL_XML_OPTION: original_xml_file = optarg; break;
    case AUTO_CLONE_OPTION: p.flags |= GK_CLONE_AUTO; break;
    case 'n': p.name = optarg; break;
    case 'u': p.uuid = optarg; break;
    case REFLINK_OPTION: p.flags |= GK_CLONE_REFLINK; break;
    case 'f': const_string_vector_append (&files, optarg); break;
    case FORCE_COPY_OPTION: const_string_vector_append (&force, optarg); break;
    case SKIP_COPY_OPTION: const_string_vector_append (&skip, optarg); break;
    case NONSPARSE_OPTION: p.flags |= GK_CLONE_NONSPARSE; break;
    case PRESERVE_OPTION: p.flags |= GK_CLONE_PRESERVE_DATA; break;
    case NVRAM_OPTION: p.nvram = optarg; break;
    case POOL_OPTION: p.pool = optarg; break;
    case LINKED_OPTION: p.flags |= GK_CLONE_LINKED; break;
    case 'm': const_string_vector_append (&macs, optarg); break;
    case REPLACE_OPTION: p.flags |= GK_CLONE_REPLACE; break;
    case PRINT_XML_OPTION: print_xml = true; break;
    case CHECK_OPTION: parse_check (optarg, &p.checks); break;
    case 'q': quiet = 1; break;
    case 'd': debug_flag = 1; break;
    case LONG_OPTIONS: display_long_options (long_options);
    case SHORT_OPTIONS: display_short_options (options);
    default: usage (2);
    }
  }
  if (optind < argc) {
    fprintf (stderr, "usage: %s --original [NAME] ...\n"
             "%s: error: unrecognized arguments: %s\n",
             program_invocation_short_name, program_invocation_short_name,
             argv[optind]);
    exit (2);
  }
  if (print_xml)
    quiet = 1;

  if (files.len == 0 && !(p.flags & GK_CLONE_AUTO))
    fail ("Either --auto-clone or --file is required, use '--auto-clone "
          "or --file' and try again.");
  if (original_xml_file)
    p.original_xml = original_xml = read_file (original_xml_file);
  else if (p.original == NULL)
    fail ("An original machine name is required, use '--original "
          "src_name' and try again.");
  if (p.name == NULL && !(p.flags & GK_CLONE_AUTO))
    fail ("A name is required for the new virtual machine, use '--name "
          "NEW_VM_NAME' to specify one.");

  /* NULL-terminate the lists. */
  if (const_string_vector_append (&files, NULL) == -1 ||
      const_string_vector_append (&macs, NULL) == -1 ||
      const_string_vector_append (&force, NULL) == -1 ||
      const_string_vector_append (&skip, NULL) == -1)
    error (EXIT_FAILURE, errno, "malloc");
  p.files = files.ptr;
  p.macs = macs.ptr;
  p.force_copy = force.ptr;
  p.skip_copy = skip.ptr;

  h = gk_create ();
  if (h == NULL)
    fail ("%s", gk_last_error (NULL));
  gk_set_error_handler (h, print_error, NULL);
  gk_set_log_callback (h, log_message, NULL);
  if (debug_flag)
    gk_set_verbose (h, 1);

  if (print_xml) {
    char *xml = gk_clone_domain_xml (h, &p);
    if (xml == NULL)
      exit (EXIT_FAILURE);
    printf ("%s\n", xml);
    free (xml);
    gk_close (h);
    free (files.ptr);
    free (macs.ptr);
    free (force.ptr);
    free (skip.ptr);
    exit (EXIT_SUCCESS);
  }

  show_bar = !quiet && isatty (2);
  p.copy_start = copy_start;
  p.progress = progress;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);

  {
    char *name = gk_clone_domain (h, &p);
    if (name == NULL) {
      if (gk_last_errno (h) == ECANCELED)
        fprintf (stderr, "Installation aborted at user request\n");
      exit (EXIT_FAILURE);
    }
    if (!quiet)
      printf ("\nClone '%s' created successfully.\n", name);
    free (name);
  }
  gk_close (h);
  free (files.ptr);
  free (macs.ptr);
  free (force.ptr);
  free (skip.ptr);
  exit (EXIT_SUCCESS);
}
