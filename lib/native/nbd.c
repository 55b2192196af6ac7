/* libguestkit native engine: formats other than raw and qcow2, through
 * qemu-nbd (see block.h).
 *
 * qemu-nbd serves the image read-only on a Unix socket in a directory
 * only we can enter (mkdtemp, 0700), for one client (--shared=1, and it
 * exits when that client goes).  We read it with libnbd.  Closing the
 * reader disconnects, then stops and reaps qemu-nbd by its PID.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifdef HAVE_LIBNBD
#include <libnbd.h>
#endif

#include "reader.h"
#include "block.h"

#ifdef HAVE_LIBNBD

/* qemu-nbd may take a while to open a large vmdk or a slow disk. */
#define START_TIMEOUT_MS 30000
/* The largest request qemu-nbd accepts is 32 MiB. */
#define MAX_REQUEST (4 * 1024 * 1024)
/* Block status requests: the length is 32 bits in NBD; stay aligned. */
#define MAX_STATUS_REQUEST (UINT64_C (1) << 30)

struct nbd {
  struct nbd_handle *nbd;
  pid_t pid;                    /* qemu-nbd, -1 once reaped */
  char *dir;                    /* the private directory */
  char *sock, *errfile;
  char *path;                   /* the reader's name */
};

static int
nbd_reader_pread (gk_h *h, void *opaque, void *buf, size_t count,
                  uint64_t offset)
{
  struct nbd *n = opaque;
  char *p = buf;

  while (count > 0) {
    size_t len = count < MAX_REQUEST ? count : MAX_REQUEST;

    if (nbd_pread (n->nbd, p, len, offset, 0) == -1) {
      error_errno (h, nbd_get_errno () ? nbd_get_errno () : EIO,
                   "%s: read at %" PRIu64 " through qemu-nbd: %s",
                   n->path, offset, nbd_get_error ());
      return -1;
    }
    p += len;
    count -= len;
    offset += len;
  }
  return 0;
}

/* One block status reply, copied out of libnbd's callback (the caller's
 * callback runs outside libnbd): (length, flags) pairs.
 */
struct status {
  uint64_t offset;              /* where the reply must start */
  uint32_t *entries;
  size_t nr_entries;            /* uint32_t's, so twice the extents */
};

static int
status_reply (void *opaque, const char *metacontext, uint64_t offset,
              uint32_t *entries, size_t nr_entries, int *error)
{
  struct status *st = opaque;
  uint32_t *p;

  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0 ||
      offset != st->offset || st->entries != NULL)
    return 0;
  p = malloc ((nr_entries ? nr_entries : 1) * sizeof *p);
  if (p == NULL) {
    *error = ENOMEM;
    return -1;
  }
  memcpy (p, entries, nr_entries * sizeof *p);
  st->entries = p;
  st->nr_entries = nr_entries & ~(size_t) 1;
  return 0;
}

/* base:allocation: a hole that reads as zeros is a hole, zeros alone are
 * zero, the rest data (a hole that does not read as zeros is data to a
 * reader).
 */
static int
nbd_reader_extents (gk_h *h, void *opaque, uint64_t offset, uint64_t length,
                    gk_reader_extent_cb cb, void *cbdata)
{
  struct nbd *n = opaque;
  uint64_t end = offset + length;

  while (offset < end) {
    uint64_t count = end - offset < MAX_STATUS_REQUEST
      ? end - offset : MAX_STATUS_REQUEST;
    struct status st = { .offset = offset };
    nbd_extent_callback callback = { .callback = status_reply,
                                     .user_data = &st };
    uint64_t start = offset;
    size_t i;
    int ret = 0;

    if (nbd_block_status (n->nbd, count, offset, callback, 0) == -1) {
      free (st.entries);
      error_errno (h, nbd_get_errno () ? nbd_get_errno () : EIO,
                   "%s: block status at %" PRIu64 " through qemu-nbd: %s",
                   n->path, offset, nbd_get_error ());
      return -1;
    }
    for (i = 0; i < st.nr_entries && offset < start + count; i += 2) {
      uint64_t len = st.entries[i];
      uint32_t flags = st.entries[i + 1];
      unsigned type;

      if (len == 0)
        break;
      if (len > start + count - offset)
        len = start + count - offset;
      if ((flags & (LIBNBD_STATE_HOLE | LIBNBD_STATE_ZERO)) ==
          (LIBNBD_STATE_HOLE | LIBNBD_STATE_ZERO))
        type = GK_READER_HOLE;
      else if (flags & LIBNBD_STATE_ZERO)
        type = GK_READER_ZERO;
      else
        type = GK_READER_DATA;
      ret = cb (cbdata, offset, len, type);
      if (ret != 0)
        break;
      offset += len;
    }
    free (st.entries);
    if (ret != 0)
      return ret;
    if (offset == start) {
      /* The server said nothing about offset: do not loop forever. */
      error_errno (h, EIO, "%s: block status at %" PRIu64 " through "
                   "qemu-nbd: no extent in the reply", n->path, offset);
      return -1;
    }
  }
  return 0;
}

static void
reap (struct nbd *n)
{
  int status;

  if (n->pid <= 0)
    return;
  /* It normally exits by itself once we disconnect; make sure. */
  kill (n->pid, SIGTERM);
  while (waitpid (n->pid, &status, 0) == -1 && errno == EINTR)
    ;
  n->pid = -1;
}

static void
nbd_reader_free (struct nbd *n)
{
  if (n->nbd) {
    nbd_shutdown (n->nbd, 0);
    nbd_close (n->nbd);
  }
  reap (n);
  if (n->sock)
    unlink (n->sock);
  if (n->errfile)
    unlink (n->errfile);
  if (n->dir)
    rmdir (n->dir);
  free (n->sock);
  free (n->errfile);
  free (n->dir);
  free (n->path);
  free (n);
}

static void
nbd_reader_close (void *opaque)
{
  nbd_reader_free (opaque);
}

/* The last line qemu-nbd wrote to stderr (for error messages). */
static char *
last_error_line (const char *errfile)
{
  CLEANUP_FCLOSE FILE *fp = fopen (errfile, "r");
  char line[512], *last = NULL;

  if (fp == NULL)
    return NULL;
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\n")] = '\0';
    if (line[0]) {
      free (last);
      last = strdup (line);
    }
  }
  return last;
}

int
gk_reader_open_nbd (gk_h *h, struct gk_reader *r, const char *path,
                    const char *format, char **why_rtn)
{
  const char *tmpdir = getenv ("TMPDIR");
  CLEANUP_FREE char *template = NULL, *fmtopt = NULL, *sockopt = NULL;
  CLEANUP_FREE char *dotpath = NULL;
  const char *argv[8];
  struct nbd *n;
  struct stat st;
  int64_t size;
  int waited, status;
  bool map;

  /* Refuse what qemu-nbd would take as an option or a protocol. */
  if (strchr (format, ',') || format[0] == '-' || format[0] == '\0')
    return gk_int_native_unsure (h, why_rtn, "%s: format \"%s\" is not "
                                 "read natively", path, format);

  n = calloc (1, sizeof *n);
  if (n == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  n->pid = -1;
  if (asprintf (&template, "%s/guestkit-nbdXXXXXX",
                tmpdir && tmpdir[0] ? tmpdir : "/tmp") == -1 ||
      (n->path = strdup (path)) == NULL) {
    perrorf (h, "malloc");
    goto err;
  }
  if (mkdtemp (template) == NULL) {
    perrorf (h, "mkdtemp: %s", template);
    goto err;
  }
  n->dir = TAKE_PTR (template);
  if (asprintf (&n->sock, "%s/sock", n->dir) == -1 ||
      asprintf (&n->errfile, "%s/stderr", n->dir) == -1 ||
      asprintf (&fmtopt, "--format=%s", format) == -1 ||
      asprintf (&sockopt, "--socket=%s", n->sock) == -1 ||
      /* "a:b" would be protocol "a" to qemu: make it a path. */
      (path[0] != '/' && asprintf (&dotpath, "./%s", path) == -1)) {
    perrorf (h, "malloc");
    goto err;
  }
  argv[0] = "qemu-nbd";
  argv[1] = "--read-only";
  argv[2] = "--shared=1";
  argv[3] = fmtopt;
  argv[4] = sockopt;
  argv[5] = "--";
  argv[6] = dotpath ? dotpath : path;
  argv[7] = NULL;
  debug (h, "native: %s: format %s, through qemu-nbd %s %s %s %s %s", path,
         format, argv[1], argv[2], argv[3], argv[4], argv[6]);

  n->pid = fork ();
  if (n->pid == -1) {
    perrorf (h, "fork");
    goto err;
  }
  if (n->pid == 0) {
    int null = open ("/dev/null", O_RDWR);
    int err = open (n->errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (null >= 0) {
      dup2 (null, 0);
      dup2 (null, 1);
    }
    if (err >= 0)
      dup2 (err, 2);
    execvp (argv[0], (char *const *) argv);
    _exit (127);
  }

  /* Wait for qemu-nbd to listen (or to fail).  Its socket appears when
   * it binds, a moment before it listens: until then a connection is
   * refused, so try again.  Ask for the allocation map
   * (gk_reader_extents); a server without it still serves the data.
   */
  for (waited = 0; ; waited += 10) {
    pid_t pid = waitpid (n->pid, &status, WNOHANG);

    if (pid == n->pid) {
      CLEANUP_FREE char *msg = last_error_line (n->errfile);

      n->pid = -1;
      if (WIFEXITED (status) && WEXITSTATUS (status) == 127) {
        int ret = gk_int_native_unsure (h, why_rtn, "%s: format %s needs "
                                        "qemu-nbd, which is not installed",
                                        path, format);
        nbd_reader_free (n);
        return ret;
      }
      error_errno (h, EIO, "%s: qemu-nbd failed: %s", path,
                   msg ? msg : "(no message)");
      goto err;
    }
    if (stat (n->sock, &st) == 0 && S_ISSOCK (st.st_mode)) {
      n->nbd = nbd_create ();
      if (n->nbd == NULL ||
          nbd_add_meta_context (n->nbd,
                                LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) {
        error_errno (h, EIO, "%s: qemu-nbd: %s", path, nbd_get_error ());
        goto err;
      }
      if (nbd_connect_unix (n->nbd, n->sock) == 0)
        break;
      if (nbd_get_errno () != ECONNREFUSED) {
        error_errno (h, EIO, "%s: qemu-nbd: %s", path, nbd_get_error ());
        goto err;
      }
      nbd_close (n->nbd);
      n->nbd = NULL;
    }
    if (waited >= START_TIMEOUT_MS) {
      error_errno (h, ETIMEDOUT, "%s: qemu-nbd did not start in %d s",
                   path, START_TIMEOUT_MS / 1000);
      goto err;
    }
    nanosleep (&(struct timespec) { 0, 10 * 1000 * 1000 }, NULL);
  }

  if ((size = nbd_get_size (n->nbd)) == -1) {
    error_errno (h, EIO, "%s: qemu-nbd: %s", path, nbd_get_error ());
    goto err;
  }
  map = nbd_can_meta_context (n->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;

  r->pread = nbd_reader_pread;
  r->close = nbd_reader_close;
  r->opaque = n;
  r->size = size;
  r->name = n->path;
  r->extents = map ? nbd_reader_extents : NULL;  /* NULL: all data */
  debug (h, "native: %s: %s through qemu-nbd (pid %d), %" PRIi64 " bytes%s",
         path, format, (int) n->pid, size,
         map ? "" : " (no allocation map)");
  return 0;

 err:
  nbd_reader_free (n);
  return -1;
}

#else /* !HAVE_LIBNBD */

int
gk_reader_open_nbd (gk_h *h, struct gk_reader *r, const char *path,
                    const char *format, char **why_rtn)
{
  return gk_int_native_unsure (h, why_rtn, "%s: format %s is not read "
                               "natively (built without libnbd)",
                               path, format);
}

#endif /* !HAVE_LIBNBD */
