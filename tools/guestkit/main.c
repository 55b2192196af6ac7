/* guestkit: storage pools and volumes from the command line, with the
 * verbs virsh users know (pool-define, vol-create-as, vol-clone, ...).
 * This file parses options and prints; libguestkit does the work.
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
#include <inttypes.h>
#include <locale.h>

#include "guestkit.h"
#include "cleanups.h"

static gk_h *h;
static bool json;

/* The options any verb may take; each verb says which it uses. */
struct opts {
  const char *pool, *newpool, *format, *allocation, *backing_vol,
    *backing_vol_format, *name, *type,
    *source_name, *source_format, *target, *auth_type, *auth_username,
    *secret_usage, *initiator, *thin_pool;
  char *source_hosts, *source_devs; /* repeatable: comma-separated */
  bool all, details, overwrite, build, disable, shrink, delta, reflink,
    linked, names_only;
  char *args[8];                /* positional arguments */
  int nargs;
};

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = program_invocation_short_name;

  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", p);
    exit (status);
  }
  printf ("%s: storage pools and volumes (dir, lvm, iscsi, rbd)\n"
          "Usage: %s [--state-dir DIR] [-v] [-x] VERB [ARGS...] [--json]\n"
          "Pools:\n"
          "  pool-define FILE              define a pool from libvirt XML\n"
          "  pool-define-as NAME TYPE [--target DIR] [--source-host H[:P]]\n"
          "      [--source-path P] [--source-name N] [--source-format F]\n"
          "      [--auth-type T --auth-username U --secret-usage env:V|file:F]\n"
          "      [--secret-uuid UUID] [--source-initiator IQN]\n"
          "      [--thin-pool TP (lvm)]\n"
          "      (--source-host and --source-dev may be repeated)\n"
          "  pool-build NAME [--overwrite] pool-start NAME [--build]\n"
          "  pool-stop NAME                pool-refresh NAME\n"
          "  pool-clean NAME               remove an interrupted copy's leftovers\n"
          "  pool-list [--all] [--name]    pool-info NAME\n"
          "  pool-dumpxml NAME             pool-autostart NAME [--disable]\n"
          "  pool-delete NAME              pool-undefine NAME\n"
          "Volumes:\n"
          "  vol-create POOL FILE          define a volume from libvirt XML\n"
          "  vol-create-as POOL NAME SIZE [--format F] [--allocation A]\n"
          "      [--backing-vol PATH --backing-vol-format F]\n"
          "  vol-list POOL [--details] [--name]\n"
          "  vol-info VOL --pool POOL      vol-dumpxml VOL --pool POOL\n"
          "  vol-path VOL --pool POOL      vol-delete VOL --pool POOL\n"
          "  vol-clone VOL NEWNAME --pool POOL [--newpool POOL] [--reflink]\n"
          "      [--linked]\n"
          "  vol-resize VOL SIZE --pool POOL [--shrink] [--delta]\n"
          "  vol-wipe VOL --pool POOL\n"
          "  vol-rename POOL VOL NEWNAME (or VOL NEWNAME --pool POOL)\n"
          "  vol-upload VOL FILE --pool POOL\n"
          "  vol-download VOL FILE --pool POOL\n"
          "--json prints listings and information as JSON.\n"
          "For more information, see the manpage %s(1).\n", p, p, p);
  exit (EXIT_SUCCESS);
}

/* Sizes as virsh prints them: "1.00 GiB". */
static const char *
pretty (uint64_t bytes, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                       "PiB", "EiB" };
  double v = bytes;
  size_t i = 0;

  while (v >= 1024 && i < 6) {
    v /= 1024;
    i++;
  }
  snprintf (buf, len, "%.2f %s", v, units[i]);
  return buf;
}

static void
json_string (const char *s)
{
  putchar ('"');
  for (; s && *s; ++s) {
    unsigned char c = *s;
    if (c == '"' || c == '\\')
      printf ("\\%c", c);
    else if (c < 0x20)
      printf ("\\u%04x", c);
    else
      putchar (c);
  }
  putchar ('"');
}

static uint64_t
parse_size (const char *s)
{
  /* "10G", "512M", "1024" (powers of 1024, as virsh). */
  char *end;
  unsigned long long v;
  int mult = 0;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || end == s)
    error (EXIT_FAILURE, 0, "‘%s’ is not a size", s);
  switch (*end) {
  case '\0': case 'b': case 'B': mult = 0; break;
  case 'k': case 'K': mult = 10; break;
  case 'm': case 'M': mult = 20; break;
  case 'g': case 'G': mult = 30; break;
  case 't': case 'T': mult = 40; break;
  case 'p': case 'P': mult = 50; break;
  default: error (EXIT_FAILURE, 0, "‘%s’ is not a size", s);
  }
  if (*end && end[1] && strcmp (end + 1, "iB") != 0 &&
      strcmp (end + 1, "B") != 0 && strcmp (end + 1, "ytes") != 0)
    error (EXIT_FAILURE, 0, "‘%s’ is not a size", s);
  if (mult && v > (UINT64_MAX >> mult))
    error (EXIT_FAILURE, 0, "‘%s’ is too large", s);
  return (uint64_t) v << mult;
}

/* A progress bar on stderr, only when it is a terminal. */
static int
progress (void *opaque, uint64_t done, uint64_t total)
{
  int width = 40, filled;

  if (total == 0)
    return 0;
  filled = (int) ((double) done / total * width);
  fprintf (stderr, "\r[%-*.*s] %3d%%", width, filled,
           "########################################",
           (int) ((double) done * 100 / total));
  if (done >= total)
    fputc ('\n', stderr);
  return 0;
}

static gk_progress_cb
progress_cb (void)
{
  return isatty (2) && !json ? progress : NULL;
}

static void
need_args (const char *verb, const struct opts *o, int n)
{
  if (o->nargs != n) {
    fprintf (stderr, "%s: %s: expected %d argument%s, got %d\n",
             program_invocation_short_name, verb, n, n == 1 ? "" : "s",
             o->nargs);
    usage (EXIT_FAILURE);
  }
}

/* A repeated option (--source-host, --source-dev): "a,b,c". */
static void
append_list (char **list, const char *item)
{
  char *s;

  if (*item == '\0' || strchr (item, ','))
    error (EXIT_FAILURE, 0, "‘%s’: empty, or contains a comma", item);
  if (asprintf (&s, "%s%s%s", *list ? *list : "", *list ? "," : "",
                item) == -1)
    error (EXIT_FAILURE, errno, "asprintf");
  free (*list);
  *list = s;
}

static const char *
need_pool (const char *verb, const struct opts *o)
{
  if (o->pool == NULL)
    error (EXIT_FAILURE, 0, "%s: --pool POOL is required", verb);
  return o->pool;
}

static char *
read_file (const char *path)
{
  CLEANUP_FCLOSE FILE *fp = strcmp (path, "-") == 0 ? NULL : fopen (path, "r");
  char *buf = NULL;
  size_t n = 0;

  if (strcmp (path, "-") != 0 && fp == NULL)
    error (EXIT_FAILURE, errno, "%s", path);
  if (getdelim (&buf, &n, '\0', fp ? fp : stdin) == -1)
    error (EXIT_FAILURE, errno, "read: %s", path);
  return buf;
}

static int
do_pool_list (const struct opts *o)
{
  CLEANUP_FREE_STRING_LIST char **names = gk_pool_list (h);
  size_t i, w = 4;
  int first = 1;

  if (names == NULL)
    return -1;
  for (i = 0; names[i]; ++i)
    if (strlen (names[i]) > w)
      w = strlen (names[i]);
  if (json)
    printf ("[");
  else if (!o->names_only) {
    printf (" %-*s   %-8s   %s\n", (int) w, "Name", "State", "Autostart");
    for (i = 0; i < w + 27; ++i)
      putchar ('-');
    putchar ('\n');
  }
  for (i = 0; names[i]; ++i) {
    struct gk_pool_info *info = gk_pool_get_info (h, names[i]);

    if (info == NULL)
      return -1;
    if (!o->all && info->state != GK_POOL_RUNNING) {
      gk_free_pool_info (info);
      continue;
    }
    if (json) {
      printf ("%s\n  {\"name\": ", first ? "" : ",");
      json_string (info->name);
      printf (", \"type\": ");
      json_string (info->type);
      printf (", \"state\": \"%s\", \"autostart\": %s, \"capacity\": %"
              PRIu64 ", \"allocation\": %" PRIu64 ", \"available\": %"
              PRIu64 "}",
              info->state == GK_POOL_RUNNING ? "running" : "inactive",
              info->autostart ? "true" : "false",
              info->capacity, info->allocation, info->available);
    }
    else if (o->names_only)
      printf ("%s\n", info->name);
    else
      printf (" %-*s   %-8s   %s\n", (int) w, info->name,
              info->state == GK_POOL_RUNNING ? "active" : "inactive",
              info->autostart ? "yes" : "no");
    first = 0;
    gk_free_pool_info (info);
  }
  if (json)
    printf ("%s]\n", first ? "" : "\n");
  else if (!o->names_only)
    putchar ('\n');
  return 0;
}

static int
do_pool_info (const char *name)
{
  struct gk_pool_info *info = gk_pool_get_info (h, name);
  char b[32];

  if (info == NULL)
    return -1;
  if (json) {
    printf ("{\"name\": ");
    json_string (info->name);
    printf (", \"uuid\": ");
    json_string (info->uuid);
    printf (", \"type\": ");
    json_string (info->type);
    printf (", \"state\": \"%s\", \"persistent\": %s, \"autostart\": %s, "
            "\"capacity\": %" PRIu64 ", \"allocation\": %" PRIu64
            ", \"available\": %" PRIu64 "}\n",
            info->state == GK_POOL_RUNNING ? "running" : "inactive",
            info->persistent ? "true" : "false",
            info->autostart ? "true" : "false",
            info->capacity, info->allocation, info->available);
  }
  else {
    printf ("%-15s %s\n", "Name:", info->name);
    printf ("%-15s %s\n", "UUID:", info->uuid);
    printf ("%-15s %s\n", "Type:", info->type);
    printf ("%-15s %s\n", "State:",
            info->state == GK_POOL_RUNNING ? "running" : "inactive");
    printf ("%-15s %s\n", "Persistent:", info->persistent ? "yes" : "no");
    printf ("%-15s %s\n", "Autostart:", info->autostart ? "yes" : "no");
    if (info->state == GK_POOL_RUNNING) {
      printf ("%-15s %s\n", "Capacity:", pretty (info->capacity, b, sizeof b));
      printf ("%-15s %s\n", "Allocation:",
              pretty (info->allocation, b, sizeof b));
      printf ("%-15s %s\n", "Available:",
              pretty (info->available, b, sizeof b));
    }
    putchar ('\n');
  }
  gk_free_pool_info (info);
  return 0;
}

static int
do_vol_list (const char *pool, const struct opts *o)
{
  CLEANUP_FREE_STRING_LIST char **names = gk_vol_list (h, pool);
  size_t i, w = 4;

  if (names == NULL)
    return -1;
  if (o->names_only) {
    for (i = 0; names[i]; ++i)
      printf ("%s\n", names[i]);
    return 0;
  }
  for (i = 0; names[i]; ++i)
    if (strlen (names[i]) > w)
      w = strlen (names[i]);
  if (json)
    printf ("[");
  else
    printf (" %-*s   %s%s\n%s\n", (int) w, "Name", "Path",
            o->details ? "   Format   Capacity   Allocation" : "",
            "------------------------------------------------------------");
  for (i = 0; names[i]; ++i) {
    struct gk_vol_info *v = gk_vol_get_info (h, pool, names[i]);
    char c[32], a[32];

    if (v == NULL)
      return -1;
    if (json) {
      printf ("%s\n  {\"name\": ", i ? "," : "");
      json_string (v->name);
      printf (", \"path\": ");
      json_string (v->path);
      printf (", \"format\": ");
      json_string (v->format);
      printf (", \"capacity\": %" PRIu64 ", \"allocation\": %" PRIu64 "}",
              v->capacity, v->allocation);
    }
    else if (o->details)
      printf (" %-*s   %s   %s   %s   %s\n", (int) w, v->name, v->path,
              v->format, pretty (v->capacity, c, sizeof c),
              pretty (v->allocation, a, sizeof a));
    else
      printf (" %-*s   %s\n", (int) w, v->name, v->path);
    gk_free_vol_info (v);
  }
  if (json)
    printf ("%s]\n", i ? "\n" : "");
  else
    putchar ('\n');
  return 0;
}

static int
do_vol_info (const char *pool, const char *name)
{
  struct gk_vol_info *v = gk_vol_get_info (h, pool, name);
  char b[32];

  if (v == NULL)
    return -1;
  if (json) {
    printf ("{\"pool\": ");
    json_string (v->pool);
    printf (", \"name\": ");
    json_string (v->name);
    printf (", \"path\": ");
    json_string (v->path);
    printf (", \"format\": ");
    json_string (v->format);
    printf (", \"capacity\": %" PRIu64 ", \"allocation\": %" PRIu64,
            v->capacity, v->allocation);
    printf (", \"backing\": ");
    if (v->backing)
      json_string (v->backing);
    else
      printf ("null");
    printf (", \"backing_format\": ");
    if (v->backing_format)
      json_string (v->backing_format);
    else
      printf ("null");
    printf ("}\n");
  }
  else {
    printf ("%-15s %s\n", "Name:", v->name);
    printf ("%-15s %s\n", "Path:", v->path);
    printf ("%-15s %s\n", "Format:", v->format);
    printf ("%-15s %s\n", "Capacity:", pretty (v->capacity, b, sizeof b));
    printf ("%-15s %s\n", "Allocation:", pretty (v->allocation, b, sizeof b));
    if (v->backing)
      printf ("%-15s %s (%s)\n", "Backing store:", v->backing,
              v->backing_format ? v->backing_format : "format not recorded");
    putchar ('\n');
  }
  gk_free_vol_info (v);
  return 0;
}

/* A pool's leftovers from a killed copy, one warning line each; the
 * refresh itself succeeded, so nothing here changes the exit status.
 */
static void
warn_leftovers (const char *pool)
{
  CLEANUP_FREE_STRING_LIST char **names = gk_pool_list_leftovers (h, pool);
  size_t i;

  for (i = 0; names && names[i]; ++i)
    fprintf (stderr, "%s: warning: pool ‘%s’: leftover temporary volume "
             "‘%s’ from an interrupted copy; remove it with ‘%s "
             "pool-clean %s’\n", program_invocation_short_name, pool,
             names[i], program_invocation_short_name, pool);
}

static int
run_verb (const char *verb, struct opts *o)
{
  char **a = o->args;

  if (strcmp (verb, "pool-define") == 0) {
    CLEANUP_FREE char *xml = NULL;

    need_args (verb, o, 1);
    xml = read_file (a[0]);
    if (gk_pool_define_xml (h, xml) == -1)
      return -1;
    printf ("Pool defined from %s\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-define-as") == 0) {
    struct gk_pool_params p = {
      .source_host = o->source_hosts, .source_path = o->source_devs,
      .source_name = o->source_name, .source_format = o->source_format,
      .target = o->target, .auth_type = o->auth_type,
      .auth_username = o->auth_username, .auth_secret = o->secret_usage,
      .initiator = o->initiator,
    };
    const char *name = o->name, *type = o->type;
    CLEANUP_FREE char *vg_tp = NULL;

    /* virsh's positional order: name type [source-host source-path
     * source-dev source-name target]; here name, type and target.
     */
    if (o->nargs >= 1 && !name) name = a[0];
    if (o->nargs >= 2 && !type) type = a[1];
    if (o->nargs >= 3 && !p.target) p.target = a[2];
    if (o->nargs > 3 || !name || !type)
      error (EXIT_FAILURE, 0, "pool-define-as: NAME and TYPE are required");
    /* The library takes an lvm thin pool as the source name VG/TP. */
    if (o->thin_pool) {
      if (strcmp (type, "lvm") != 0 && strcmp (type, "logical") != 0)
        error (EXIT_FAILURE, 0, "pool-define-as: --thin-pool is only for "
               "lvm (logical) pools");
      if (strchr (o->thin_pool, '/') ||
          (p.source_name && strchr (p.source_name, '/')))
        error (EXIT_FAILURE, 0, "pool-define-as: ‘/’ in a volume group or "
               "thin pool name");
      if (asprintf (&vg_tp, "%s/%s", p.source_name ? p.source_name : name,
                    o->thin_pool) == -1)
        error (EXIT_FAILURE, errno, "asprintf");
      p.source_name = vg_tp;
    }
    if (gk_pool_define (h, type, name, &p) == -1)
      return -1;
    printf ("Pool %s defined\n\n", name);
    return 0;
  }
  if (strcmp (verb, "pool-build") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_build (h, a[0], o->overwrite ? GK_POOL_BUILD_OVERWRITE : 0) == -1)
      return -1;
    printf ("Pool %s built\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-start") == 0) {
    need_args (verb, o, 1);
    if (o->build && gk_pool_build (h, a[0], 0) == -1)
      return -1;
    if (gk_pool_start (h, a[0]) == -1)
      return -1;
    printf ("Pool %s started\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-stop") == 0 || strcmp (verb, "pool-destroy") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_stop (h, a[0]) == -1)
      return -1;
    printf ("Pool %s destroyed\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-refresh") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_refresh (h, a[0]) == -1)
      return -1;
    warn_leftovers (a[0]);
    printf ("Pool %s refreshed\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-clean") == 0) {
    int n;

    need_args (verb, o, 1);
    n = gk_pool_clean (h, a[0]);
    if (n == -1)
      return -1;
    printf ("Pool %s cleaned: %d leftover volume%s removed\n\n", a[0], n,
            n == 1 ? "" : "s");
    return 0;
  }
  if (strcmp (verb, "pool-delete") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_delete (h, a[0]) == -1)
      return -1;
    printf ("Pool %s deleted\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-undefine") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_undefine (h, a[0]) == -1)
      return -1;
    printf ("Pool %s has been undefined\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "pool-autostart") == 0) {
    need_args (verb, o, 1);
    if (gk_pool_set_autostart (h, a[0], !o->disable) == -1)
      return -1;
    printf ("Pool %s %s\n\n", a[0],
            o->disable ? "unmarked as autostarted" : "marked as autostarted");
    return 0;
  }
  if (strcmp (verb, "pool-list") == 0) {
    need_args (verb, o, 0);
    return do_pool_list (o);
  }
  if (strcmp (verb, "pool-info") == 0) {
    need_args (verb, o, 1);
    return do_pool_info (a[0]);
  }
  if (strcmp (verb, "pool-dumpxml") == 0) {
    CLEANUP_FREE char *xml = NULL;

    need_args (verb, o, 1);
    xml = gk_pool_get_xml (h, a[0]);
    if (xml == NULL)
      return -1;
    fputs (xml, stdout);
    return 0;
  }
  if (strcmp (verb, "vol-create") == 0) {
    CLEANUP_FREE char *xml = NULL;

    need_args (verb, o, 2);
    xml = read_file (a[1]);
    if (gk_vol_create_xml (h, a[0], xml) == -1)
      return -1;
    printf ("Vol created from %s\n\n", a[1]);
    return 0;
  }
  if (strcmp (verb, "vol-create-as") == 0) {
    struct gk_vol_params p = {
      .capacity = 0, .allocation = 0, .format = o->format,
      .backing = o->backing_vol,
      .backing_format = o->backing_vol_format,
    };

    need_args (verb, o, 3);
    p.capacity = parse_size (a[2]);
    /* As virsh: sparse unless --allocation says otherwise. */
    if (o->allocation)
      p.allocation = parse_size (o->allocation);
    if (p.backing && !p.backing_format)
      error (EXIT_FAILURE, 0, "vol-create-as: --backing-vol needs "
             "--backing-vol-format (formats are never probed)");
    if (gk_vol_create (h, a[0], a[1], &p) == -1)
      return -1;
    printf ("Vol %s created\n\n", a[1]);
    return 0;
  }
  if (strcmp (verb, "vol-list") == 0) {
    need_args (verb, o, o->pool ? 0 : 1);
    return do_vol_list (o->pool ? o->pool : a[0], o);
  }
  if (strcmp (verb, "vol-info") == 0) {
    need_args (verb, o, 1);
    return do_vol_info (need_pool (verb, o), a[0]);
  }
  if (strcmp (verb, "vol-dumpxml") == 0) {
    CLEANUP_FREE char *xml = NULL;

    need_args (verb, o, 1);
    xml = gk_vol_get_xml (h, need_pool (verb, o), a[0]);
    if (xml == NULL)
      return -1;
    fputs (xml, stdout);
    return 0;
  }
  if (strcmp (verb, "vol-path") == 0) {
    CLEANUP_FREE char *path = NULL;

    need_args (verb, o, 1);
    path = gk_vol_get_path (h, need_pool (verb, o), a[0]);
    if (path == NULL)
      return -1;
    printf ("%s\n", path);
    return 0;
  }
  if (strcmp (verb, "vol-delete") == 0) {
    need_args (verb, o, 1);
    if (gk_vol_delete (h, need_pool (verb, o), a[0]) == -1)
      return -1;
    printf ("Vol %s deleted\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "vol-clone") == 0) {
    const char *pool;

    need_args (verb, o, 2);
    pool = need_pool (verb, o);
    if (gk_vol_clone (h, pool, a[0], o->newpool ? o->newpool : pool, a[1],
                      (o->reflink ? GK_VOL_CLONE_REFLINK : 0) |
                      (o->linked ? GK_VOL_CLONE_LINKED : 0)) == -1)
      return -1;
    printf ("Vol %s cloned from %s\n\n", a[1], a[0]);
    return 0;
  }
  if (strcmp (verb, "vol-resize") == 0) {
    const char *pool;
    uint64_t size;

    need_args (verb, o, 2);
    pool = need_pool (verb, o);
    size = parse_size (a[1]);
    if (o->delta) {
      struct gk_vol_info *v = gk_vol_get_info (h, pool, a[0]);

      if (v == NULL)
        return -1;
      size += v->capacity;
      gk_free_vol_info (v);
    }
    if (gk_vol_resize (h, pool, a[0], size,
                       o->shrink ? GK_VOL_RESIZE_SHRINK : 0) == -1)
      return -1;
    printf ("Size of volume '%s' successfully changed to %s\n\n", a[0], a[1]);
    return 0;
  }
  if (strcmp (verb, "vol-wipe") == 0) {
    need_args (verb, o, 1);
    if (gk_vol_wipe (h, need_pool (verb, o), a[0]) == -1)
      return -1;
    printf ("Vol %s wiped\n\n", a[0]);
    return 0;
  }
  if (strcmp (verb, "vol-rename") == 0) {
    /* POOL VOL NEWNAME, or VOL NEWNAME --pool POOL as the other verbs. */
    char **v = o->pool ? a : a + 1;

    need_args (verb, o, o->pool ? 2 : 3);
    if (gk_vol_rename (h, o->pool ? o->pool : a[0], v[0], v[1]) == -1)
      return -1;
    printf ("Vol %s renamed to %s\n\n", v[0], v[1]);
    return 0;
  }
  if (strcmp (verb, "vol-upload") == 0) {
    need_args (verb, o, 2);
    return gk_vol_upload (h, need_pool (verb, o), a[0], a[1], progress_cb (),
                          NULL);
  }
  if (strcmp (verb, "vol-download") == 0) {
    need_args (verb, o, 2);
    return gk_vol_download (h, need_pool (verb, o), a[0], a[1],
                            progress_cb (), NULL);
  }
  fprintf (stderr, "%s: unknown verb ‘%s’\n", program_invocation_short_name,
           verb);
  usage (EXIT_FAILURE);
}

static const char *const verbs[] = {
  "pool-define", "pool-define-as", "pool-build", "pool-start", "pool-stop",
  "pool-destroy", "pool-refresh", "pool-list", "pool-info", "pool-dumpxml",
  "pool-delete", "pool-undefine", "pool-autostart",
  "vol-create", "vol-create-as", "vol-list", "vol-info", "vol-dumpxml",
  "vol-path", "vol-clone", "vol-resize", "vol-wipe", "vol-upload",
  "vol-download", "vol-delete", "vol-rename", "pool-clean", NULL
};

/* The options each verb uses (besides the global ones), for
 * "guestkit VERB --long-options" (bash completion).
 */
static const struct { const char *verb, *opts; } verb_opts[] = {
  { "pool-define-as", "name type source-host source-path source-dev "
    "source-name source-format target auth-type auth-username secret-usage "
    "secret-uuid initiator source-initiator thin-pool" },
  { "pool-build", "overwrite" }, { "pool-start", "build" },
  { "pool-list", "all name-only" }, { "pool-autostart", "disable" },
  { "vol-create-as", "format allocation backing-vol backing-vol-format" },
  { "vol-list", "pool details name-only" }, { "vol-info", "pool" },
  { "vol-dumpxml", "pool" }, { "vol-path", "pool" }, { "vol-delete", "pool" },
  { "vol-clone", "pool newpool reflink linked" },
  { "vol-resize", "pool shrink delta" }, { "vol-wipe", "pool" },
  { "vol-upload", "pool" }, { "vol-download", "pool" },
  { "vol-rename", "pool" },
};
static const char global_opts[] = "help state-dir json verbose version";

/* Is the option NAME in the space-separated LIST? */
static bool
in_list (const char *list, const char *name)
{
  size_t len = strlen (name);

  for (; *list; list += strcspn (list, " "), list += *list == ' ')
    if (strncmp (list, name, len) == 0 && (list[len] == ' ' || !list[len]))
      return true;
  return false;
}

int
main (int argc, char *argv[])
{
  enum {
    HELP = 256, STATE_DIR, JSON, POOL, NEWPOOL, FORMAT, ALLOCATION,
    BACKING_VOL, BACKING_VOL_FORMAT, NAME, TYPE, SOURCE_HOST, SOURCE_PATH,
    SOURCE_DEV, SOURCE_NAME, SOURCE_FORMAT, TARGET, AUTH_TYPE, AUTH_USERNAME,
    SECRET_USAGE, SECRET_UUID, INITIATOR, THIN_POOL, ALL, DETAILS, OVERWRITE, BUILD, DISABLE, SHRINK,
    DELTA, REFLINK, LINKED, NAMES, LONG_OPTIONS, VERBS
  };
  static const struct option long_options[] = {
    { "help", 0, 0, HELP }, { "state-dir", 1, 0, STATE_DIR },
    { "json", 0, 0, JSON }, { "pool", 1, 0, POOL },
    { "newpool", 1, 0, NEWPOOL }, { "format", 1, 0, FORMAT },
    { "allocation", 1, 0, ALLOCATION }, { "backing-vol", 1, 0, BACKING_VOL },
    { "backing-vol-format", 1, 0, BACKING_VOL_FORMAT },
    { "name", 1, 0, NAME }, { "type", 1, 0, TYPE },
    { "source-host", 1, 0, SOURCE_HOST }, { "source-path", 1, 0, SOURCE_PATH },
    { "source-dev", 1, 0, SOURCE_DEV }, { "source-name", 1, 0, SOURCE_NAME },
    { "source-format", 1, 0, SOURCE_FORMAT }, { "target", 1, 0, TARGET },
    { "auth-type", 1, 0, AUTH_TYPE }, { "auth-username", 1, 0, AUTH_USERNAME },
    { "secret-usage", 1, 0, SECRET_USAGE }, { "secret-uuid", 1, 0, SECRET_UUID },
    { "initiator", 1, 0, INITIATOR }, { "source-initiator", 1, 0, INITIATOR },
    { "thin-pool", 1, 0, THIN_POOL },
    { "all", 0, 0, ALL }, { "details", 0, 0, DETAILS },
    { "overwrite", 0, 0, OVERWRITE }, { "build", 0, 0, BUILD },
    { "disable", 0, 0, DISABLE }, { "shrink", 0, 0, SHRINK },
    { "delta", 0, 0, DELTA }, { "reflink", 0, 0, REFLINK },
    { "linked", 0, 0, LINKED }, { "name-only", 0, 0, NAMES },
    { "long-options", 0, 0, LONG_OPTIONS }, { "verbs", 0, 0, VERBS },
    { "verbose", 0, 0, 'v' }, { "version", 0, 0, 'V' },
    { 0, 0, 0, 0 }
  };
  struct opts o = { 0 };
  const char *verb = NULL;
  int c, r;
  size_t i;

  setlocale (LC_ALL, "");
  h = gk_create ();
  if (h == NULL)
    error (EXIT_FAILURE, 0, "%s", gk_last_error (NULL));

  /* Options may come before or after the verb, as with virsh. */
  while ((c = getopt_long (argc, argv, "+vVx", long_options, NULL)) != -1 ||
         optind < argc) {
    if (c == -1) {
      /* After "--", everything is an argument (a name may start with -). */
      if (strcmp (argv[optind - 1], "--") == 0) {
        for (; optind < argc; optind++) {
          if (verb == NULL)
            verb = argv[optind];
          else if (o.nargs < (int) (sizeof o.args / sizeof o.args[0]))
            o.args[o.nargs++] = argv[optind];
          else
            error (EXIT_FAILURE, 0, "too many arguments");
        }
        break;
      }
      if (verb == NULL)
        verb = argv[optind];
      else if (o.nargs < (int) (sizeof o.args / sizeof o.args[0]))
        o.args[o.nargs++] = argv[optind];
      else
        error (EXIT_FAILURE, 0, "too many arguments");
      optind++;
      continue;
    }
    switch (c) {
    case HELP: usage (EXIT_SUCCESS);
    case 'V': printf ("%s %s\n", program_invocation_short_name, gk_version ());
      exit (EXIT_SUCCESS);
    case 'v': gk_set_verbose (h, 1); break;
    case 'x': gk_set_trace (h, 1); break;
    case STATE_DIR:
      if (gk_set_state_dir (h, optarg) == -1)
        exit (EXIT_FAILURE);
      break;
    case JSON: json = true; break;
    case POOL: o.pool = optarg; break;
    case NEWPOOL: o.newpool = optarg; break;
    case FORMAT: o.format = optarg; break;
    case ALLOCATION: o.allocation = optarg; break;
    case BACKING_VOL: o.backing_vol = optarg; break;
    case BACKING_VOL_FORMAT: o.backing_vol_format = optarg; break;
    case NAME: o.name = optarg; break;
    case TYPE: o.type = optarg; break;
    case SOURCE_HOST: append_list (&o.source_hosts, optarg); break;
    case SOURCE_PATH: case SOURCE_DEV: append_list (&o.source_devs, optarg);
      break;
    case SOURCE_NAME: o.source_name = optarg; break;
    case SOURCE_FORMAT: o.source_format = optarg; break;
    case TARGET: o.target = optarg; break;
    case AUTH_TYPE: o.auth_type = optarg; break;
    case AUTH_USERNAME: o.auth_username = optarg; break;
    case SECRET_USAGE: o.secret_usage = optarg; break;
    case SECRET_UUID:
      /* The library tells a UUID from a usage by its form. */
      if (strlen (optarg) != 36 || optarg[8] != '-' || optarg[13] != '-' ||
          optarg[18] != '-' || optarg[23] != '-' ||
          strspn (optarg, "0123456789abcdefABCDEF-") != 36)
        error (EXIT_FAILURE, 0, "--secret-uuid ‘%s’ is not a UUID", optarg);
      o.secret_usage = optarg;
      break;
    case INITIATOR: o.initiator = optarg; break;
    case THIN_POOL: o.thin_pool = optarg; break;
    case ALL: o.all = true; break;
    case DETAILS: o.details = true; break;
    case OVERWRITE: o.overwrite = true; break;
    case BUILD: o.build = true; break;
    case DISABLE: o.disable = true; break;
    case SHRINK: o.shrink = true; break;
    case DELTA: o.delta = true; break;
    case REFLINK: o.reflink = true; break;
    case LINKED: o.linked = true; break;
    case NAMES: o.names_only = true; break;
    case LONG_OPTIONS: {
      /* After a verb: only the options it uses. */
      const char *mine = "";

      for (i = 0; verb && i < sizeof verb_opts / sizeof verb_opts[0]; ++i)
        if (strcmp (verb_opts[i].verb, verb) == 0)
          mine = verb_opts[i].opts;
      for (i = 0; long_options[i].name; ++i)
        if (strcmp (long_options[i].name, "long-options") != 0 &&
            (verb == NULL || in_list (global_opts, long_options[i].name) ||
             in_list (mine, long_options[i].name)))
          printf ("--%s\n", long_options[i].name);
      exit (EXIT_SUCCESS);
    }
    case VERBS:
      for (i = 0; verbs[i]; ++i)
        printf ("%s\n", verbs[i]);
      exit (EXIT_SUCCESS);
    default:
      usage (EXIT_FAILURE);
    }
  }
  if (verb == NULL)
    usage (EXIT_FAILURE);

  r = run_verb (verb, &o);
  free (o.source_hosts);
  free (o.source_devs);
  gk_close (h);
  exit (r == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
