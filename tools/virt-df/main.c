/* virt-df: display free space on virtual filesystems.
 *
 * Options, exit codes and output are those of libguestfs's virt-df 1.48
 * (guestfs-tools); the work is done by libguestkit.  This file parses the
 * options and hands rows to output.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>
#include <errno.h>
#include <error.h>
#include <limits.h>
#include <locale.h>

#include "guestkit.h"
#include "vector.h"
#include "cleanups.h"
#include "virt-df.h"

enum output_mode output_mode = OUTPUT_TEXT;
int human, inodes, uuid, verbose;

/* The guest's drives as given, for the display name and for adding -d
 * domains once the options are known to be valid.
 */
struct drv {
  bool is_domain;
  bool is_uri;
  const char *name;
};
DEFINE_VECTOR_TYPE (drv_vector, struct drv);

static gk_h *h;
static const char *libvirt_uri;

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = program_invocation_short_name;

  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", p);
  else {
    printf ("%s: display free space on virtual filesystems\n"
            "Usage:\n"
            "  %s [--options] -d domname\n"
            "  %s [--options] -a disk.img [-a disk.img ...]\n"
            "Options:\n"
            "  -a|--add image       Add image\n"
            "  --appliance          Read the disks in a VM (libguestfs),\n"
            "                       not with the native engine\n"
            "  --blocksize[=512|4096]\n"
            "                       Set sector size of the disk for -a option\n"
            "  -c|--connect uri     Specify libvirt URI for -d option\n"
            "  --csv                Output as Comma-Separated Values\n"
            "  -d|--domain guest    Add disks from libvirt guest\n"
            "  --format[=raw|..]    Force disk format for -a option\n"
            "  -h|--human-readable  Print sizes in human-readable format\n"
            "  --help               Display brief help\n"
            "  -i|--inodes          Display inodes\n"
            "  --json               Output as JSON (sizes in bytes)\n"
            "  --one-per-guest      Separate appliance per guest\n"
            "  -P nr_threads        Use at most nr_threads\n"
            "  --uuid               Print UUIDs instead of names\n"
            "  -v|--verbose         Verbose messages\n"
            "  -V|--version         Display version and exit\n"
            "  -x                   Trace guestkit API calls\n"
            "For more information, see the manpage %s(1).\n",
            p, p, p, p);
  }
  exit (status);
}

/* --long-options and --short-options, for bash completion. */
static void __attribute__ ((noreturn))
display_long_options (const struct option *long_options)
{
  for (; long_options->name; ++long_options) {
    if (strcmp (long_options->name, "long-options") != 0 &&
        strcmp (long_options->name, "short-options") != 0)
      printf ("--%s\n", long_options->name);
  }
  exit (EXIT_SUCCESS);
}

static void __attribute__ ((noreturn))
display_short_options (const char *format)
{
  for (; *format; ++format)
    if (*format != ':')
      printf ("-%c\n", *format);
  exit (EXIT_SUCCESS);
}

/* "disk.img" for one -a, the last URI element, the domain name as typed;
 * with several drives, the first one's name and a '+' per extra drive.
 */
static char *
make_display_name (const drv_vector *drvs)
{
  const char *first = drvs->ptr[0].name;
  const char *slash = strrchr (first, '/');
  char *name;
  size_t len;

  /* A URI is shortened only if its last element is not empty. */
  if (!drvs->ptr[0].is_domain && slash &&
      (!drvs->ptr[0].is_uri || slash[1] != '\0'))
    first = slash + 1;
  len = strlen (first);
  name = malloc (len + drvs->len);
  if (name == NULL)
    error (EXIT_FAILURE, errno, "malloc");
  memcpy (name, first, len);
  memset (name + len, '+', drvs->len - 1);
  name[len + drvs->len - 1] = '\0';
  return name;
}

/* check: -a (the reference's option parsing checks that a file is
 * readable, "access: FILE: ..."); the old-style arguments are left to
 * the library, whose message is libguestfs's.
 */
static void
add_a (drv_vector *drvs, const char *arg, const char *format, int blocksize,
       bool check)
{
  /* "scheme://..." with a short lower-case scheme, as guestfish. */
  const char *sep = strstr (arg, "://");
  struct drv d = {
    .is_domain = false, .name = arg,
    .is_uri = sep && sep > arg && sep - arg <= 8 &&
              strspn (arg, "abcdefghijklmnopqrstuvwxyz+") == (size_t) (sep - arg),
  };

  /* As the reference does, check -a at once, before other options. */
  if (check && !d.is_uri && access (arg, R_OK) == -1)
    error (EXIT_FAILURE, errno, "access: %s", arg);
  if (gk_add_drive (h, arg, format, blocksize, 0) == -1)
    exit (EXIT_FAILURE);
  if (drv_vector_append (drvs, d) == -1)
    error (EXIT_FAILURE, errno, "realloc");
}

static void
add_d (drv_vector *drvs, const char *arg)
{
  struct drv d = { .is_domain = true, .name = arg };

  if (drv_vector_append (drvs, d) == -1)
    error (EXIT_FAILURE, errno, "realloc");
}

static void
domain_done (void *opaque, const struct gk_domain *dom, int status,
             const struct gk_fs_usage *usage, size_t n, const char *message)
{
  if (status == 0)
    print_usage (dom->name, dom->uuid, usage, n);
  else if (status == -1 || verbose)
    fprintf (stderr, "%s: %s: %s%s\n", program_invocation_short_name,
             dom->name, status == 1 ? "skipped: " : "",
             message ? message : "failed");
}

static int
all_guests (size_t max_threads)
{
  struct gk_domain *domains;
  size_t n;
  int r;

  if (gk_list_domains (h, libvirt_uri, &domains, &n) == -1)
    exit (EXIT_FAILURE);
  print_title ();
  fflush (stdout);
  /* Each failed guest was reported by domain_done already. */
  gk_push_error_handler (h, NULL, NULL);
  r = gk_df_domains (h, libvirt_uri, domains, n, max_threads,
                     domain_done, NULL);
  gk_pop_error_handler (h);
  print_end ();
  gk_free_domains (domains, n);
  return r;
}

static int
single_guest (const drv_vector *drvs)
{
  CLEANUP_FREE char *name = NULL;
  struct gk_fs_usage *usage;
  size_t i, n;

  for (i = 0; i < drvs->len; ++i)
    if (drvs->ptr[i].is_domain &&
        gk_add_domain (h, drvs->ptr[i].name, libvirt_uri, 0) == -1)
      exit (EXIT_FAILURE);

  /* No title unless the guest could be opened: with the appliance,
   * that is its launch (as the reference); the native engine opens the
   * disks in gk_df itself.
   */
  if (gk_get_engine (h) == GK_ENGINE_APPLIANCE) {
    if (gk_launch (h) == -1)
      exit (EXIT_FAILURE);
    print_title ();
    if (gk_df (h, &usage, &n) == -1) {
      print_end ();
      return -1;
    }
  }
  else {
    if (gk_df (h, &usage, &n) == -1)
      exit (EXIT_FAILURE);
    print_title ();
  }
  name = make_display_name (drvs);
  /* --uuid only applies to all-guests mode, as in the reference (which
   * notes "XXX regression": no UUID is available for -d there).
   */
  print_usage (name, NULL, usage, n);
  print_end ();
  gk_free_fs_usage (usage, n);
  return 0;
}

int
main (int argc, char *argv[])
{
  enum { HELP_OPTION = CHAR_MAX + 1 };
  static const char options[] = "a:c:d:hiP:vVx";
  static const struct option long_options[] = {
    { "add", 1, 0, 'a' },
    { "appliance", 0, 0, 0 },
    { "blocksize", 2, 0, 0 },
    { "connect", 1, 0, 'c' },
    { "csv", 0, 0, 0 },
    { "domain", 1, 0, 'd' },
    { "format", 2, 0, 0 },
    { "help", 0, 0, HELP_OPTION },
    { "human-readable", 0, 0, 'h' },
    { "inodes", 0, 0, 'i' },
    { "json", 0, 0, 0 },
    { "long-options", 0, 0, 0 },
    { "one-per-guest", 0, 0, 0 },
    { "short-options", 0, 0, 0 },
    { "uuid", 0, 0, 0 },
    { "verbose", 0, 0, 'v' },
    { "version", 0, 0, 'V' },
    { 0, 0, 0, 0 }
  };
  drv_vector drvs = empty_vector;
  const char *format = NULL;
  bool format_consumed = true, blocksize_consumed = true;
  int blocksize = 0;
  size_t max_threads = 0;
  int c, option_index, r;

  setlocale (LC_ALL, "");

  h = gk_create ();
  if (h == NULL)
    error (EXIT_FAILURE, 0, "%s", gk_last_error (NULL));

  for (;;) {
    c = getopt_long (argc, argv, options, long_options, &option_index);
    if (c == -1)
      break;

    switch (c) {
    case 0: {                   /* long options only */
      const char *opt = long_options[option_index].name;

      if (strcmp (opt, "long-options") == 0)
        display_long_options (long_options);
      else if (strcmp (opt, "short-options") == 0)
        display_short_options (options);
      else if (strcmp (opt, "format") == 0) {
        format = optarg && strcmp (optarg, "") != 0 ? optarg : NULL;
        format_consumed = false;
      }
      else if (strcmp (opt, "blocksize") == 0) {
        if (!optarg || strcmp (optarg, "") == 0)
          blocksize = 0;
        else if (sscanf (optarg, "%d", &blocksize) != 1)
          error (EXIT_FAILURE, 0, "--blocksize option is not numeric");
        blocksize_consumed = false;
      }
      else if (strcmp (opt, "appliance") == 0)
        gk_set_engine (h, GK_ENGINE_APPLIANCE);
      else if (strcmp (opt, "csv") == 0)
        output_mode = OUTPUT_CSV;
      else if (strcmp (opt, "json") == 0)
        output_mode = OUTPUT_JSON;
      else if (strcmp (opt, "one-per-guest") == 0)
        ;                       /* the only behaviour since 1.22 */
      else if (strcmp (opt, "uuid") == 0)
        uuid = 1;
      else
        error (EXIT_FAILURE, 0, "unknown long option: %s (%d)",
               opt, option_index);
      break;
    }

    case 'a':
      add_a (&drvs, optarg, format, blocksize, true);
      format_consumed = blocksize_consumed = true;
      break;

    case 'c':
      libvirt_uri = optarg;
      break;

    case 'd':
      add_d (&drvs, optarg);
      break;

    case 'h':
      human = 1;
      break;

    case 'i':
      inodes = 1;
      break;

    case 'P':
      /* sscanf, as the reference: "4x" is 4, "x" is an error. */
      if (sscanf (optarg, "%zu", &max_threads) != 1)
        error (EXIT_FAILURE, 0, "-P option is not numeric");
      break;

    case 'v':
      verbose++;
      gk_set_verbose (h, verbose);
      break;

    case 'V':
      printf ("%s %s\n", program_invocation_short_name, gk_version ());
      exit (EXIT_SUCCESS);

    case 'x':
      gk_set_trace (h, 1);
      break;

    case HELP_OPTION:
      usage (EXIT_SUCCESS);

    default:
      usage (EXIT_FAILURE);
    }
  }

  /* Old-style syntax: virt-df [domname|disk.img ...] when no -a or -d. */
  if (drvs.len == 0) {
    for (; optind < argc; optind++) {
      if (strchr (argv[optind], '/') || access (argv[optind], F_OK) == 0)
        add_a (&drvs, argv[optind], format, blocksize, false);
      else
        add_d (&drvs, argv[optind]);
    }
  }
  if (optind != argc)
    usage (EXIT_FAILURE);

  if (!format_consumed) {
    fprintf (stderr, "%s: --format parameter must appear before -a "
             "parameter\n", program_invocation_short_name);
    exit (EXIT_FAILURE);
  }
  if (!blocksize_consumed) {
    fprintf (stderr, "%s: --blocksize parameter must appear before -a "
             "parameter\n", program_invocation_short_name);
    exit (EXIT_FAILURE);
  }
  /* Spreadsheets would mangle "7.4G" (RHBZ#600977). */
  if (human && output_mode == OUTPUT_CSV)
    error (EXIT_FAILURE, 0, "you cannot use -h and --csv options together.");
  if (human && output_mode == OUTPUT_JSON)
    error (EXIT_FAILURE, 0, "you cannot use -h and --json options together.");

  if (drvs.len == 0)
    r = all_guests (max_threads);
  else
    r = single_guest (&drvs);

  drv_vector_reset (&drvs);
  gk_close (h);
  exit (r == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
