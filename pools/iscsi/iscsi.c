/* guestkit: the iscsi pool backend (libvirt's iscsi-direct).
 *
 * The pool is one iSCSI target (<source><device path='IQN'/>) behind one
 * portal (<source><host name= port=>); its volumes are the target's LUNs
 * that are disks, named unit:0:0:N as libvirt's iscsi-direct names them.
 * Everything runs in user space with libiscsi: no kernel initiator, no
 * iscsid, nothing left logged in.  Every operation opens its own session
 * and logs out at the end, so a pool holds no state between calls and a
 * killed process leaves nothing behind but a session the target drops.
 * (A block-level disk, vol_open_disk, keeps its session until closed.)
 *
 * LUNs belong to the target: they are never created, deleted or resized
 * here (those operations fail with a message that says so).  Upload,
 * download and wipe stream the LUN with READ(16)/WRITE(16) in 1 MiB
 * chunks.  A LUN has no holes, so an upload reads only the data ranges
 * of the local file but writes every block of the LUN (zeros where the
 * file has holes or ends); a download writes only the non-zero blocks to
 * the local file, which thus stays sparse.
 *
 * Every network wait is bounded: the connection and login by a deadline
 * of our own (CONNECT_TIMEOUT), each command by libiscsi's PDU timeout,
 * and libiscsi's automatic reconnection (which retries forever by
 * default) is turned off.  The CHAP password is read from the place the
 * definition names (env:VAR or file:/PATH) at each connection and never
 * stored, printed or passed on a command line.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "internal.h"
#include "pool-internal.h"
#include "modules.h"
#include "disk-internal.h"

#define DEFAULT_PORT 3260
#define CONNECT_TIMEOUT 10      /* seconds, connection and login */
#define IO_TIMEOUT 30           /* seconds, each SCSI command */
#define CHUNK (1024 * 1024)     /* bytes per READ(16)/WRITE(16) */
#define ZERO_GRAIN 4096         /* download: skip zeros in this unit */
#define UNIT_PREFIX "unit:0:0:"
#define MAX_TRIES 3             /* a command answered by UNIT ATTENTION */
#define RUNNING (-1)            /* connection status: no answer yet */

/* One logged-in session to the pool's target. */
struct conn {
  struct iscsi_context *ctx;
  const struct pool_def *def;   /* while connecting */
  const char *pool;             /* the pool's name, for messages */
  char *portal;                 /* host:port, as libiscsi wants it */
  const char *target;
};

/* A disk LUN and its geometry. */
struct lun_geom {
  int lun;
  uint32_t block_size;
  uint64_t nr_blocks;
  bool lbpme, lbprz;            /* thin: GET LBA STATUS; unmapped reads 0 */
};

static int
port_of (const struct pool_def *def)
{
  return def->hosts[0].port ? def->hosts[0].port : DEFAULT_PORT;
}

/* "host:port", with an IPv6 address bracketed. */
static char *
make_portal (gk_h *h, const struct pool_def *def)
{
  const char *host = def->hosts[0].name;
  bool v6 = strchr (host, ':') != NULL && host[0] != '[';
  char *ret;

  if (asprintf (&ret, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                port_of (def)) == -1) {
    perrorf (h, "iscsi pool");
    return NULL;
  }
  return ret;
}

static int
iscsi_check_def (gk_h *h, const struct pool_def *def)
{
  const char *usage = def->auth_secret_usage;

  if (def->nr_hosts != 1 || def->hosts[0].name == NULL ||
      def->hosts[0].name[0] == '\0') {
    error_errno (h, EINVAL, "iscsi pool ‘%s’: exactly one <source><host> "
                 "(the portal) is needed", def->name);
    return -1;
  }
  if (def->source_devices == NULL || def->source_devices[0] == NULL ||
      def->source_devices[0][0] == '\0' || def->source_devices[1] != NULL) {
    error_errno (h, EINVAL, "iscsi pool ‘%s’: exactly one <source><device "
                 "path='TARGET-IQN'> is needed", def->name);
    return -1;
  }
  if (def->auth_type == NULL)
    return 0;
  if (strcmp (def->auth_type, "chap") != 0) {
    error_errno (h, EINVAL, "iscsi pool ‘%s’: auth type ‘%s’ is not "
                 "supported (chap)", def->name, def->auth_type);
    return -1;
  }
  if (def->auth_username == NULL || def->auth_username[0] == '\0') {
    error_errno (h, EINVAL, "iscsi pool ‘%s’: CHAP needs a username",
                 def->name);
    return -1;
  }
  /* Only references: a secret itself must never land in the XML.  A
   * libvirt secret's UUID (virsh's XML) is kept, but cannot be read:
   * connecting says so.
   */
  if (usage == NULL && def->auth_secret_uuid != NULL)
    return 0;
  if (usage == NULL ||
      !((strncmp (usage, "env:", 4) == 0 && usage[4] != '\0') ||
        (strncmp (usage, "file:/", 6) == 0))) {
    error_errno (h, EINVAL, "iscsi pool ‘%s’: CHAP needs a secret usage of "
                 "the form env:NAME or file:/ABSOLUTE/PATH", def->name);
    return -1;
  }
  return 0;
}

/* The CHAP password from env:NAME or file:PATH (its first line). */
static char *
read_secret (gk_h *h, const struct pool_def *def)
{
  const char *usage = def->auth_secret_usage;
  char *secret = NULL;

  if (usage == NULL) {
    error_errno (h, ENOTSUP, "iscsi pool ‘%s’: the CHAP secret is the "
                 "libvirt secret %s, which guestkit cannot read: use "
                 "<secret usage='env:VAR'> or usage='file:/PATH'", def->name,
                 def->auth_secret_uuid ? def->auth_secret_uuid : "(none)");
    return NULL;
  }
  if (strncmp (usage, "env:", 4) == 0) {
    const char *v = getenv (usage + 4);

    if (v == NULL || v[0] == '\0') {
      error_errno (h, ENOENT, "iscsi pool ‘%s’: the CHAP secret variable "
                   "%s is not set", def->name, usage + 4);
      return NULL;
    }
    secret = strdup (v);
    if (secret == NULL)
      perrorf (h, "iscsi pool");
    return secret;
  }
  else {
    CLEANUP_FCLOSE FILE *fp = fopen (usage + 5, "re");
    size_t n = 0;
    ssize_t len;

    if (fp == NULL) {
      perrorf (h, "iscsi pool ‘%s’: CHAP secret file %s", def->name,
               usage + 5);
      return NULL;
    }
    len = getline (&secret, &n, fp);
    /* Only the first line: a file written by echo ends with a newline. */
    while (len > 0 && (secret[len-1] == '\n' || secret[len-1] == '\r'))
      secret[--len] = '\0';
    if (len <= 0) {
      free (secret);
      error_errno (h, ENOENT, "iscsi pool ‘%s’: CHAP secret file %s is "
                   "empty", def->name, usage + 5);
      return NULL;
    }
    return secret;
  }
}

static void
login_cb (struct iscsi_context *ctx, int status, void *data, void *opaque)
{
  int *status_rtn = opaque;

  *status_rtn = status;
}

/* TCP connected: log in.  Not iscsi_full_connect_async, whose TEST UNIT
 * READY on one given LUN fails on targets without that LUN; our commands
 * retry the UNIT ATTENTION that a fresh login brings instead.
 */
static void
connect_cb (struct iscsi_context *ctx, int status, void *data, void *opaque)
{
  int *status_rtn = opaque;

  if (status != 0 || iscsi_login_async (ctx, login_cb, opaque) != 0)
    *status_rtn = status != 0 ? status : SCSI_STATUS_ERROR;
}

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
conn_close (struct conn *c)
{
  if (c->ctx) {
    if (iscsi_is_logged_in (c->ctx))
      iscsi_logout_sync (c->ctx);
    iscsi_destroy_context (c->ctx);
  }
  free (c->portal);
  memset (c, 0, sizeof *c);
}

/* The error of a failed connection, naming the portal and the target. */
static void
connect_error (gk_h *h, struct conn *c, int errnum, const char *reason)
{
  if (strstr (reason, "uthentication") != NULL)
    error_errno (h, EACCES, "iscsi pool ‘%s’: %s %s: authentication failed "
                 "(CHAP user ‘%s’): %s", c->def->name, c->portal, c->target,
                 c->def->auth_username ? c->def->auth_username : "(none)",
                 reason);
  else
    error_errno (h, errnum, "iscsi pool ‘%s’: cannot log in to %s %s: %s",
                 c->def->name, c->portal, c->target, reason);
}

/* Log in to the pool's target.  The whole connection and login must
 * finish within CONNECT_TIMEOUT seconds.
 */
static int
conn_open (gk_h *h, const struct pool_def *def, struct conn *c)
{
  const char *initiator = def->initiator_iqn ? def->initiator_iqn
    : GK_ISCSI_DEFAULT_INITIATOR;
  int status = RUNNING;
  int64_t deadline;

  memset (c, 0, sizeof *c);
  /* A definition stored by an older version was never checked. */
  if (iscsi_check_def (h, def) == -1)
    return -1;
  c->def = def;
  c->pool = def->name;
  c->target = def->source_devices[0];
  c->portal = make_portal (h, def);
  if (c->portal == NULL)
    return -1;
  c->ctx = iscsi_create_context (initiator);
  if (c->ctx == NULL) {
    error_errno (h, ENOMEM, "iscsi pool ‘%s’: cannot create an iSCSI "
                 "context for initiator %s", def->name, initiator);
    goto err;
  }
  if (iscsi_set_targetname (c->ctx, c->target) != 0 ||
      iscsi_set_session_type (c->ctx, ISCSI_SESSION_NORMAL) != 0 ||
      iscsi_set_header_digest (c->ctx,
                               ISCSI_HEADER_DIGEST_NONE_CRC32C) != 0) {
    connect_error (h, c, EINVAL, iscsi_get_error (c->ctx));
    goto err;
  }
  /* libiscsi reconnects forever by default: a dead target would hang us. */
  iscsi_set_noautoreconnect (c->ctx, 1);
  iscsi_set_reconnect_max_retries (c->ctx, 0);
  iscsi_set_timeout (c->ctx, IO_TIMEOUT);
  if (def->auth_type) {
    CLEANUP_FREE char *secret = read_secret (h, def);
    int r;

    if (secret == NULL)
      goto err;
    r = iscsi_set_initiator_username_pwd (c->ctx, def->auth_username,
                                          secret);
    /* Do not leave the password lying in our heap (libiscsi has a copy). */
    explicit_bzero (secret, strlen (secret));
    if (r != 0) {
      connect_error (h, c, EINVAL, iscsi_get_error (c->ctx));
      goto err;
    }
  }

  debug (h, "iscsi: connecting to %s %s as %s", c->portal, c->target,
         initiator);
  if (iscsi_connect_async (c->ctx, c->portal, connect_cb, &status) != 0) {
    connect_error (h, c, EIO, iscsi_get_error (c->ctx));
    goto err;
  }
  /* Our own event loop, for a deadline that libiscsi's sync call lacks. */
  deadline = now_ms () + CONNECT_TIMEOUT * 1000;
  while (status == RUNNING) {
    struct pollfd pfd;
    int64_t left = deadline - now_ms ();
    int r;

    if (left <= 0) {
      error_errno (h, ETIMEDOUT, "iscsi pool ‘%s’: cannot log in to %s %s: "
                   "no answer within %d seconds", def->name, c->portal,
                   c->target, CONNECT_TIMEOUT);
      goto err;
    }
    pfd.fd = iscsi_get_fd (c->ctx);
    pfd.events = iscsi_which_events (c->ctx);
    pfd.revents = 0;
    r = poll (&pfd, 1, left < 1000 ? (int) left : 1000);
    if (r == -1 && errno != EINTR) {
      perrorf (h, "iscsi pool ‘%s’: poll", def->name);
      goto err;
    }
    /* libiscsi's own message for a failed TCP connect says nothing
     * useful ("Can not reconnect right now"): take the socket's error.
     */
    if (r > 0 && (pfd.revents & (POLLERR | POLLHUP)) &&
        !iscsi_is_logged_in (c->ctx)) {
      int err = 0;
      socklen_t len = sizeof err;

      if (getsockopt (pfd.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          err != 0) {
        connect_error (h, c, err, strerror (err));
        goto err;
      }
    }
    if (iscsi_service (c->ctx, r > 0 ? pfd.revents : 0) < 0 &&
        status == RUNNING) {
      connect_error (h, c, EIO, iscsi_get_error (c->ctx));
      goto err;
    }
  }
  if (status != 0) {
    connect_error (h, c, EIO, iscsi_get_error (c->ctx));
    goto err;
  }
  return 0;

 err:
  conn_close (c);
  return -1;
}

/* Judge a finished command: 1 good, 0 worth retrying (a UNIT ATTENTION,
 * which a target reports once after a change), -1 error (set).
 */
static int
task_result (gk_h *h, struct conn *c, struct scsi_task *task,
             const char *what, int lun, int try)
{
  if (task != NULL && task->status == SCSI_STATUS_GOOD)
    return 1;
  if (task != NULL && task->status == SCSI_STATUS_CHECK_CONDITION &&
      task->sense.key == SCSI_SENSE_UNIT_ATTENTION && try + 1 < MAX_TRIES)
    return 0;
  if (task != NULL && task->status == SCSI_STATUS_CHECK_CONDITION)
    error_errno (h, EIO, "iscsi pool ‘%s’: %s %s LUN %d: %s failed: %s "
                 "(%s)", c->pool, c->portal, c->target, lun, what,
                 scsi_sense_key_str (task->sense.key),
                 scsi_sense_ascq_str (task->sense.ascq));
  else
    error_errno (h, EIO, "iscsi pool ‘%s’: %s %s LUN %d: %s failed: %s",
                 c->pool, c->portal, c->target, lun, what,
                 iscsi_get_error (c->ctx));
  return -1;
}

/* The LUN numbers of the target's disks (not its controller LUN). */
static int
list_disk_luns (gk_h *h, struct conn *c, int **luns_rtn, size_t *nr_rtn)
{
  struct scsi_task *task = NULL;
  struct scsi_reportluns_list *list;
  int *luns = NULL;
  size_t nr = 0;
  uint32_t i;
  int try, r = -1;

  for (try = 0; try < MAX_TRIES; ++try) {
    task = iscsi_reportluns_sync (c->ctx, SCSI_REPORTLUNS_REPORT_ALL_LUNS,
                                  16384);
    r = task_result (h, c, task, "REPORT LUNS", 0, try);
    if (r != 0)
      break;
    scsi_free_scsi_task (task);
  }
  if (r == -1)
    goto out;
  r = -1;
  list = scsi_datain_unmarshall (task);
  if (list == NULL) {
    error_errno (h, EIO, "iscsi pool ‘%s’: %s %s: cannot parse the REPORT "
                 "LUNS answer", c->pool, c->portal, c->target);
    goto out;
  }
  luns = calloc (list->num + 1, sizeof *luns);
  if (luns == NULL) {
    perrorf (h, "iscsi pool");
    goto out;
  }
  for (i = 0; i < list->num; ++i) {
    struct scsi_task *inq = NULL;
    struct scsi_inquiry_standard *std;
    int lun = list->luns[i], ok = 0;

    for (try = 0; try < MAX_TRIES; ++try) {
      inq = iscsi_inquiry_sync (c->ctx, lun, 0, 0, 255);
      ok = task_result (h, c, inq, "INQUIRY", lun, try);
      if (ok != 0)
        break;
      scsi_free_scsi_task (inq);
    }
    if (ok == -1) {
      scsi_free_scsi_task (inq);
      goto out;
    }
    /* tgt's LUN 0 is a controller: only direct-access disks are volumes. */
    std = scsi_datain_unmarshall (inq);
    if (std && std->qualifier == SCSI_INQUIRY_PERIPHERAL_QUALIFIER_CONNECTED
        && std->device_type == SCSI_INQUIRY_PERIPHERAL_DEVICE_TYPE_DIRECT_ACCESS)
      luns[nr++] = lun;
    scsi_free_scsi_task (inq);
  }
  *luns_rtn = luns;
  *nr_rtn = nr;
  luns = NULL;
  r = 0;
 out:
  free (luns);
  if (task)
    scsi_free_scsi_task (task);
  return r;
}

/* READ CAPACITY(16): the block size and the number of blocks. */
static int
read_geometry (gk_h *h, struct conn *c, int lun, struct lun_geom *g)
{
  struct scsi_task *task = NULL;
  struct scsi_readcapacity16 *rc;
  int try, r = -1;

  for (try = 0; try < MAX_TRIES; ++try) {
    task = iscsi_readcapacity16_sync (c->ctx, lun);
    r = task_result (h, c, task, "READ CAPACITY(16)", lun, try);
    if (r != 0)
      break;
    scsi_free_scsi_task (task);
  }
  if (r == 1) {
    rc = scsi_datain_unmarshall (task);
    if (rc == NULL || rc->block_length == 0 ||
        CHUNK % rc->block_length != 0) {
      error_errno (h, EIO, "iscsi pool ‘%s’: %s %s LUN %d: unusable READ "
                   "CAPACITY(16) answer", c->pool, c->portal,
                   c->target, lun);
      r = -1;
    }
    else {
      /* The target returns the LAST block's address, not the count. */
      g->lun = lun;
      g->block_size = rc->block_length;
      g->nr_blocks = rc->returned_lba + 1;
      g->lbpme = rc->lbpme;
      g->lbprz = rc->lbprz;
      r = 0;
    }
  }
  if (task)
    scsi_free_scsi_task (task);
  return r;
}

/* unit:0:0:N → N, or -1 with an error. */
static int
parse_vol_name (gk_h *h, const struct pool_def *def, const char *name)
{
  const char *p = name + strlen (UNIT_PREFIX);
  char *end;
  long n;

  if (strncmp (name, UNIT_PREFIX, strlen (UNIT_PREFIX)) != 0 ||
      *p < '0' || *p > '9')
    goto bad;
  errno = 0;
  n = strtol (p, &end, 10);
  if (errno || *end || n > 16383)
    goto bad;
  return n;
 bad:
  error_errno (h, ENOENT, "iscsi pool ‘%s’: ‘%s’ is not a LUN name "
               "(unit:0:0:N)", def->name, name);
  return -1;
}

/* Log in and get the geometry of the volume called name. */
static int
open_vol (gk_h *h, const struct pool_def *def, const char *name,
          struct conn *c, struct lun_geom *g)
{
  int lun = parse_vol_name (h, def, name);

  if (lun == -1 || conn_open (h, def, c) == -1)
    return -1;
  if (read_geometry (h, c, lun, g) == -1) {
    conn_close (c);
    return -1;
  }
  return 0;
}

static int
iscsi_refresh (gk_h *h, const struct pool_def *def, uint64_t *capacity,
               uint64_t *allocation, uint64_t *available)
{
  struct conn c;
  CLEANUP_FREE int *luns = NULL;
  size_t nr, i;
  uint64_t sum = 0;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (list_disk_luns (h, &c, &luns, &nr) == -1)
    goto err;
  for (i = 0; i < nr; ++i) {
    struct lun_geom g;

    if (read_geometry (h, &c, luns[i], &g) == -1)
      goto err;
    sum += g.nr_blocks * g.block_size;
  }
  conn_close (&c);
  /* As libvirt: the LUNs are the pool, fully used, nothing free. */
  *capacity = *allocation = sum;
  *available = 0;
  return 0;

 err:
  conn_close (&c);
  return -1;
}

static int
iscsi_vol_list (gk_h *h, const struct pool_def *def, char ***names_rtn)
{
  struct conn c;
  CLEANUP_FREE int *luns = NULL;
  char **names;
  size_t nr, i;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (list_disk_luns (h, &c, &luns, &nr) == -1) {
    conn_close (&c);
    return -1;
  }
  conn_close (&c);
  names = calloc (nr + 1, sizeof (char *));
  if (names == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  for (i = 0; i < nr; ++i) {
    if (asprintf (&names[i], UNIT_PREFIX "%d", luns[i]) == -1) {
      names[i] = NULL;
      perrorf (h, "iscsi pool");
      free_string_list (names);
      return -1;
    }
  }
  *names_rtn = names;
  return 0;
}

static int
iscsi_vol_info (gk_h *h, const struct pool_def *def, const char *name,
                struct vol_state *st)
{
  const char *host = def->hosts[0].name;
  bool v6 = strchr (host, ':') != NULL && host[0] != '[';
  struct conn c;
  struct lun_geom g;

  if (open_vol (h, def, name, &c, &g) == -1)
    return -1;
  conn_close (&c);
  st->name = strdup (name);
  st->format = strdup ("raw");
  /* The URI qemu opens: iscsi://HOST:PORT/IQN/LUN. */
  if (st->name == NULL || st->format == NULL ||
      asprintf (&st->path, "iscsi://%s%s%s:%d/%s/%d", v6 ? "[" : "", host,
                v6 ? "]" : "", port_of (def), def->source_devices[0],
                g.lun) == -1) {
    st->path = NULL;
    perrorf (h, "iscsi pool");
    return -1;
  }
  st->capacity = st->allocation = g.nr_blocks * g.block_size;
  return 0;
}

static int
iscsi_vol_create (gk_h *h, const struct pool_def *def,
                  const struct vol_def *vol)
{
  error_errno (h, ENOTSUP, "iscsi pools cannot create LUNs: create them on "
               "the target");
  return -1;
}

static int
iscsi_vol_delete (gk_h *h, const struct pool_def *def, const char *name)
{
  error_errno (h, ENOTSUP, "iscsi pools cannot delete LUNs: delete them on "
               "the target");
  return -1;
}

static int
iscsi_vol_resize (gk_h *h, const struct pool_def *def, const char *name,
                  uint64_t capacity, unsigned flags)
{
  error_errno (h, ENOTSUP, "iscsi pools cannot resize LUNs: resize them on "
               "the target");
  return -1;
}

/* WRITE(16) of len bytes (a multiple of the block size) at byte pos. */
static int
write_blocks (gk_h *h, struct conn *c, const struct lun_geom *g,
              uint64_t pos, unsigned char *buf, uint32_t len)
{
  int try, r = -1;

  for (try = 0; try < MAX_TRIES; ++try) {
    struct scsi_task *task =
      iscsi_write16_sync (c->ctx, g->lun, pos / g->block_size, buf, len,
                          g->block_size, 0, 0, 0, 0, 0);

    r = task_result (h, c, task, "WRITE(16)", g->lun, try);
    if (task)
      scsi_free_scsi_task (task);
    if (r != 0)
      break;
  }
  return r == 1 ? 0 : -1;
}

/* READ(16) of len bytes at byte pos into buf. */
static int
read_blocks (gk_h *h, struct conn *c, const struct lun_geom *g,
             uint64_t pos, unsigned char *buf, uint32_t len)
{
  int try, r = -1;

  for (try = 0; try < MAX_TRIES; ++try) {
    struct scsi_task *task =
      iscsi_read16_sync (c->ctx, g->lun, pos / g->block_size, len,
                         g->block_size, 0, 0, 0, 0, 0);

    r = task_result (h, c, task, "READ(16)", g->lun, try);
    if (r == 1) {
      /* A short Data-In would leave stale bytes: refuse it. */
      if (task->datain.size != (int) len || task->datain.data == NULL) {
        error_errno (h, EIO, "iscsi pool ‘%s’: %s %s LUN %d: READ(16) "
                     "returned %d bytes instead of %" PRIu32, c->pool,
                     c->portal, c->target, g->lun, task->datain.size, len);
        r = -1;
      }
      else
        memcpy (buf, task->datain.data, len);
    }
    if (task)
      scsi_free_scsi_task (task);
    if (r != 0)
      break;
  }
  return r == 1 ? 0 : -1;
}

static int
report_progress (gk_h *h, gk_progress_cb progress, void *opaque,
                 uint64_t done, uint64_t total)
{
  if (progress && progress (opaque, done, total) == -1) {
    error_errno (h, ECANCELED, "copy cancelled");
    return -1;
  }
  return 0;
}

static int
iscsi_vol_wipe (gk_h *h, const struct pool_def *def, const char *name)
{
  CLEANUP_FREE unsigned char *zeros = calloc (1, CHUNK);
  struct conn c;
  struct lun_geom g;
  uint64_t size, pos;

  if (zeros == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  if (open_vol (h, def, name, &c, &g) == -1)
    return -1;
  /* Plain zero writes: every target takes them, unlike WRITE SAME. */
  size = g.nr_blocks * g.block_size;
  for (pos = 0; pos < size; pos += CHUNK) {
    uint32_t n = size - pos < CHUNK ? size - pos : CHUNK;

    if (write_blocks (h, &c, &g, pos, zeros, n) == -1) {
      conn_close (&c);
      return -1;
    }
  }
  conn_close (&c);
  return 0;
}

/* Fill buf (already zeroed, len bytes) with the local file's bytes at
 * [pos, pos + len), reading only its data ranges.
 */
static int
read_local (gk_h *h, int fd, uint64_t fsize, uint64_t pos,
            unsigned char *buf, size_t len)
{
  uint64_t end = pos + len < fsize ? pos + len : fsize;
  uint64_t off = pos;

  while (off < end) {
    off_t data = lseek (fd, off, SEEK_DATA), hole;

    if (data == -1) {
      if (errno == ENXIO)       /* a hole up to the end of the file */
        return 0;
      perrorf (h, "upload: lseek");
      return -1;
    }
    if ((uint64_t) data >= end)
      return 0;
    hole = lseek (fd, data, SEEK_HOLE);
    if (hole == -1 || (uint64_t) hole > end)
      hole = end;
    for (off = data; off < (uint64_t) hole; ) {
      ssize_t r = pread (fd, buf + (off - pos), hole - off, off);

      if (r == -1) {
        if (errno == EINTR)
          continue;
        perrorf (h, "upload: read");
        return -1;
      }
      if (r == 0)               /* the file shrank: the rest is zeros */
        return 0;
      off += r;
    }
  }
  return 0;
}

static int
iscsi_vol_upload (gk_h *h, const struct pool_def *def, const char *name,
                  int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE unsigned char *buf = malloc (CHUNK);
  struct conn c;
  struct lun_geom g;
  struct stat sb;
  uint64_t fsize, size, pos;

  if (buf == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  if (fstat (fd, &sb) == -1) {
    perrorf (h, "upload: stat");
    return -1;
  }
  if (S_ISREG (sb.st_mode))
    fsize = sb.st_size;
  else {
    off_t end = lseek (fd, 0, SEEK_END);

    if (end == -1) {
      perrorf (h, "upload: the local file must be seekable");
      return -1;
    }
    fsize = end;
  }
  if (open_vol (h, def, name, &c, &g) == -1)
    return -1;
  size = g.nr_blocks * g.block_size;
  /* Refuse before writing anything: a truncated upload is a broken disk. */
  if (fsize > size) {
    error_errno (h, EFBIG, "iscsi pool ‘%s’: cannot upload %" PRIu64
                 " bytes into %s, a LUN of %" PRIu64 " bytes", def->name,
                 fsize, name, size);
    conn_close (&c);
    return -1;
  }
  /* Every block is written: after the file (or in its holes) zeros. */
  for (pos = 0; pos < size; pos += CHUNK) {
    uint32_t n = size - pos < CHUNK ? size - pos : CHUNK;

    memset (buf, 0, n);
    if ((pos < fsize && read_local (h, fd, fsize, pos, buf, n) == -1) ||
        write_blocks (h, &c, &g, pos, buf, n) == -1 ||
        report_progress (h, progress, opaque, pos + n, size) == -1) {
      conn_close (&c);
      return -1;
    }
  }
  conn_close (&c);
  return 0;
}

static bool
all_zero (const unsigned char *buf, size_t len)
{
  return len == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, len - 1) == 0);
}

static int
write_local (gk_h *h, int fd, const unsigned char *buf, size_t len,
             uint64_t off)
{
  while (len > 0) {
    ssize_t n = pwrite (fd, buf, len, off);

    if (n == -1) {
      if (errno == EINTR)
        continue;
      perrorf (h, "download: write");
      return -1;
    }
    buf += n;
    len -= n;
    off += n;
  }
  return 0;
}

static int
iscsi_vol_download (gk_h *h, const struct pool_def *def, const char *name,
                    int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE unsigned char *buf = malloc (CHUNK);
  struct conn c;
  struct lun_geom g;
  uint64_t size, pos;

  if (buf == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  if (open_vol (h, def, name, &c, &g) == -1)
    return -1;
  size = g.nr_blocks * g.block_size;
  for (pos = 0; pos < size; pos += CHUNK) {
    uint32_t n = size - pos < CHUNK ? size - pos : CHUNK;
    uint32_t i;

    if (read_blocks (h, &c, &g, pos, buf, n) == -1)
      goto err;
    /* Zero grains are left as holes: the local copy stays sparse. */
    for (i = 0; i < n; i += ZERO_GRAIN) {
      uint32_t len = n - i < ZERO_GRAIN ? n - i : ZERO_GRAIN;

      if (!all_zero (buf + i, len) &&
          write_local (h, fd, buf + i, len, pos + i) == -1)
        goto err;
    }
    if (report_progress (h, progress, opaque, pos + n, size) == -1)
      goto err;
  }
  conn_close (&c);
  if (ftruncate (fd, size) == -1) {
    perrorf (h, "download: ftruncate");
    return -1;
  }
  return 0;

 err:
  conn_close (&c);
  return -1;
}

static int
iscsi_vol_rename (gk_h *h, const struct pool_def *def, const char *old_name,
                  const char *new_name)
{
  error_errno (h, ENOTSUP, "iscsi pools cannot rename LUNs: their names are "
               "their numbers on the target");
  return -1;
}

/* Do two pools name the same target through the same portal? */
static bool
same_target (const struct pool_def *a, const struct pool_def *b)
{
  return strcmp (a->hosts[0].name, b->hosts[0].name) == 0 &&
    port_of (a) == port_of (b) &&
    strcmp (a->source_devices[0], b->source_devices[0]) == 0;
}

/* LUN to LUN, through us: every block of dst is written, the source's
 * bytes and then zeros up to dst's end, so no stale data survives.  (A
 * target reporting LBPRZ would let UNMAP do the zeros; plain writes are
 * what every target takes.)  One session serves both LUNs of the same
 * target: a second login with the same initiator name could reinstate,
 * i.e. kill, the first.
 */
static int
copy_lun (gk_h *h, const struct pool_def *def, const char *dst,
          const struct pool_def *src_def, const char *src)
{
  CLEANUP_FREE unsigned char *buf = malloc (CHUNK);
  struct conn sc = { 0 }, dc = { 0 }, *s = &dc;
  struct lun_geom sg, dg;
  uint64_t ssize, dsize, pos;
  int lun, r = -1;

  if (buf == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  if (open_vol (h, def, dst, &dc, &dg) == -1)
    return -1;
  if (same_target (def, src_def)) {
    lun = parse_vol_name (h, src_def, src);
    if (lun == -1 || read_geometry (h, &dc, lun, &sg) == -1)
      goto out;
  }
  else {
    if (open_vol (h, src_def, src, &sc, &sg) == -1)
      goto out;
    s = &sc;
  }
  ssize = sg.nr_blocks * sg.block_size;
  dsize = dg.nr_blocks * dg.block_size;
  if (ssize > dsize) {          /* it may have grown since the check */
    error_errno (h, ENOSPC, "iscsi pool ‘%s’: %s (%" PRIu64 " bytes) is "
                 "smaller than %s (%" PRIu64 " bytes)", def->name, dst, dsize,
                 src, ssize);
    goto out;
  }
  debug (h, "clone %s: copying %" PRIu64 " bytes from LUN %d, zeroing %"
         PRIu64, dst, ssize, sg.lun, dsize - ssize);
  /* CHUNK is a multiple of both block sizes (read_geometry), so each
   * read ends on a source block and each write on a destination block.
   */
  for (pos = 0; pos < dsize; pos += CHUNK) {
    uint32_t n = dsize - pos < CHUNK ? dsize - pos : CHUNK;
    uint32_t m = pos >= ssize ? 0 : ssize - pos < n ? ssize - pos : n;

    if (m > 0 && read_blocks (h, s, &sg, pos, buf, m) == -1)
      goto out;
    memset (buf + m, 0, n - m);
    if (write_blocks (h, &dc, &dg, pos, buf, n) == -1)
      goto out;
  }
  r = 0;
 out:
  conn_close (&sc);
  conn_close (&dc);
  return r;
}

/* LUNs are made on the target: the library has checked that dst exists
 * and is large enough (clone_into_existing).
 */
static int
iscsi_vol_clone (gk_h *h, const struct pool_def *def, const char *dst,
                 const struct pool_def *src_def, const struct vol_state *src,
                 unsigned flags)
{
  int fd, r;

  if (flags & GK_VOL_CLONE_LINKED) {
    error_errno (h, ENOTSUP, "clone %s: iscsi pools have no linked clones "
                 "(a LUN cannot be backed by another volume)", dst);
    return -1;
  }
  if (flags & GK_VOL_CLONE_REFLINK) {
    error_errno (h, ENOTSUP, "clone %s: iscsi pools have no reflink copies",
                 dst);
    return -1;
  }
  if (strcmp (src_def->type, "iscsi") == 0)
    return copy_lun (h, def, dst, src_def, src->name);
  if (src->path == NULL || src->path[0] != '/') {
    error_errno (h, ENOTSUP, "cloning a volume of a %s pool into an iscsi "
                 "pool is not supported", src_def->type);
    return -1;
  }
  /* A LUN is raw: the bytes of a qcow2 file are not its disk. */
  if (src->format && strcmp (src->format, "raw") != 0) {
    error_errno (h, ENOTSUP, "clone %s: only a raw volume can be copied "
                 "into an iscsi LUN (‘%s’ is %s)", dst, src->name,
                 src->format);
    return -1;
  }
  /* A raw file or block device (dir, lvm): as an upload of it, which
   * writes every block of the LUN, zeros where the source has none.
   */
  fd = open (src->path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    perrorf (h, "open: %s", src->path);
    return -1;
  }
  debug (h, "clone %s: copying %s", dst, src->path);
  r = iscsi_vol_upload (h, def, dst, fd, NULL, NULL);
  close (fd);
  return r;
}

/* Block-level access (gk_disk_open_volume; the ops are described in
 * lib/disk-internal.h): one session for the life of the disk.  Requests
 * at any byte offset: whole blocks go straight to READ(16)/WRITE(16) in
 * pieces of at most CHUNK, the partial blocks at either end through a
 * bounce buffer (read-modify-write for writes).  Zeroing is WRITE SAME(16)
 * of a zero block, with UNMAP where the target offers it (LBPWS), and
 * zero writes on a target that refuses WRITE SAME.  Extents come from GET
 * LBA STATUS on a thin-provisioned LUN (READ CAPACITY(16) LBPME), where a
 * deallocated or anchored range is a hole if it reads as zeros (LBPRZ);
 * any other LUN, or one refusing the command, is all data.  A LUN keeps
 * no checkpoints.
 */
#define WS_BYTES (64 * 1024 * 1024)  /* per WRITE SAME, at most */
#define LBA_STATUS_LEN 4096          /* GET LBA STATUS allocation length */

struct iscsi_disk {
  struct conn c;
  struct lun_geom g;
  char *pool, *vol, *target;    /* c points at these */
  uint32_t io_max;              /* bytes per READ/WRITE(16): CHUNK or less */
  uint32_t ws_max;              /* blocks per WRITE SAME(16) */
  bool rw;
  bool thin;                    /* GET LBA STATUS, until refused */
  bool ws_unmap;                /* WRITE SAME(16) with UNMAP */
  bool no_ws;                   /* WRITE SAME(16) was refused */
  bool dirty;                   /* written since the last flush */
  unsigned char *bounce;        /* CHUNK bytes */
};

/* Did the target refuse the command itself (unsupported, bad field)? */
static bool
illegal_request (struct scsi_task *task)
{
  return task != NULL && task->status == SCSI_STATUS_CHECK_CONDITION &&
    task->sense.key == SCSI_SENSE_ILLEGAL_REQUEST;
}

/* A finished task: 1 good, 0 refused as an ILLEGAL REQUEST (no error
 * set: the caller falls back), 2 worth sending again (task_result), -1
 * error (set).  The task is freed unless good and task_rtn is not NULL.
 */
static int
disk_task (gk_h *h, struct iscsi_disk *d, struct scsi_task *task,
           const char *what, int try, struct scsi_task **task_rtn)
{
  int r;

  if (illegal_request (task)) {
    debug (h, "iscsi: %s LUN %d: %s refused: %s", d->target, d->g.lun, what,
           scsi_sense_ascq_str (task->sense.ascq));
    scsi_free_scsi_task (task);
    return 0;
  }
  r = task_result (h, &d->c, task, what, d->g.lun, try);
  if (r == 0)
    r = 2;                      /* UNIT ATTENTION: try again */
  if (r == 1 && task_rtn)
    *task_rtn = task;
  else if (task)
    scsi_free_scsi_task (task);
  return r;
}

/* An INQUIRY VPD page, unmarshalled into *task_rtn's data; 0 if the
 * target has no such page.
 */
static int
vpd_page (gk_h *h, struct iscsi_disk *d, int page, struct scsi_task **task_rtn)
{
  int try, r = -1;

  for (try = 0; try < MAX_TRIES; ++try) {
    struct scsi_task *task = iscsi_inquiry_sync (d->c.ctx, d->g.lun, 1, page,
                                                 255);

    r = disk_task (h, d, task, "INQUIRY", try, task_rtn);
    if (r != 2)
      break;
  }
  return r;
}

/* What the LUN offers: thin provisioning, WRITE SAME with UNMAP, limits. */
static int
probe_lun (gk_h *h, struct iscsi_disk *d)
{
  struct scsi_task *task = NULL;
  uint32_t bs = d->g.block_size;
  int r;

  d->io_max = CHUNK;
  d->ws_max = WS_BYTES / bs;
  r = vpd_page (h, d, SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS, &task);
  if (r == -1)
    return -1;
  if (r == 1) {
    struct scsi_inquiry_block_limits *bl = scsi_datain_unmarshall (task);

    /* Limits in blocks; 0 is "none reported". */
    if (bl && bl->max_xfer_len > 0 &&
        (uint64_t) bl->max_xfer_len * bs < CHUNK)
      d->io_max = bl->max_xfer_len * bs;
    if (bl && bl->max_ws_len > 0 && bl->max_ws_len < d->ws_max)
      d->ws_max = bl->max_ws_len;
    scsi_free_scsi_task (task);
    task = NULL;
  }
  d->thin = d->g.lbpme;
  if (d->thin) {
    r = vpd_page (h, d, SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING,
                  &task);
    if (r == -1)
      return -1;
    if (r == 1) {
      struct scsi_inquiry_logical_block_provisioning *lbp =
        scsi_datain_unmarshall (task);

      d->ws_unmap = lbp && lbp->lbpws;
      scsi_free_scsi_task (task);
    }
  }
  debug (h, "iscsi: %s LUN %d: %" PRIu32 "-byte blocks, thin %d (zeros %d), "
         "WRITE SAME UNMAP %d, %" PRIu32 " bytes per command", d->target,
         d->g.lun, bs, d->thin, d->g.lbprz, d->ws_unmap, d->io_max);
  return 0;
}

/* Whole blocks: len a multiple of the block size, at most io_max. */
static int
disk_read_blocks (gk_h *h, struct iscsi_disk *d, uint64_t pos, void *buf,
                  uint32_t len)
{
  return read_blocks (h, &d->c, &d->g, pos, buf, len);
}

static int
disk_write_blocks (gk_h *h, struct iscsi_disk *d, uint64_t pos,
                   const void *buf, uint32_t len)
{
  d->dirty = true;
  /* libiscsi only reads the data out (its argument is not const). */
  return write_blocks (h, &d->c, &d->g, pos, (unsigned char *) buf, len);
}

static int
iscsi_disk_pread (gk_h *h, void *priv, void *buf, size_t count,
                  uint64_t offset)
{
  struct iscsi_disk *d = priv;
  uint32_t bs = d->g.block_size;
  char *p = buf;

  while (count > 0) {
    uint32_t head = offset % bs, n;

    if (head == 0 && count >= bs) {
      n = count > d->io_max ? d->io_max : count - count % bs;
      if (disk_read_blocks (h, d, offset, p, n) == -1)
        return -1;
    }
    else {
      /* The blocks around [offset, offset+count), at most io_max. */
      uint64_t span = (uint64_t) head + count;
      uint32_t len = span >= d->io_max ? d->io_max
        : (span + bs - 1) / bs * bs;

      if (disk_read_blocks (h, d, offset - head, d->bounce, len) == -1)
        return -1;
      n = len - head < count ? len - head : count;
      memcpy (p, d->bounce + head, n);
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

/* Write buf (zeros if NULL) at any offset: whole blocks directly, a
 * partial block by read-modify-write.
 */
static int
disk_write (gk_h *h, struct iscsi_disk *d, const char *buf, uint64_t count,
            uint64_t offset)
{
  uint32_t bs = d->g.block_size;

  while (count > 0) {
    uint32_t head = offset % bs, n;

    if (head == 0 && count >= bs) {
      n = count > d->io_max ? d->io_max : count - count % bs;
      if (buf == NULL)
        memset (d->bounce, 0, n);
      if (disk_write_blocks (h, d, offset, buf ? buf : (char *) d->bounce,
                             n) == -1)
        return -1;
    }
    else {
      n = bs - head < count ? bs - head : count;
      if (disk_read_blocks (h, d, offset - head, d->bounce, bs) == -1)
        return -1;
      if (buf)
        memcpy (d->bounce + head, buf, n);
      else
        memset (d->bounce + head, 0, n);
      if (disk_write_blocks (h, d, offset - head, d->bounce, bs) == -1)
        return -1;
    }
    if (buf)
      buf += n;
    count -= n;
    offset += n;
  }
  return 0;
}

static int
iscsi_disk_pwrite (gk_h *h, void *priv, const void *buf, size_t count,
                   uint64_t offset)
{
  return disk_write (h, priv, buf, count, offset);
}

/* WRITE SAME(16) of a zero block over nr blocks from lba: 1 done, 0
 * refused by the target, -1 error.
 */
static int
write_same_zero (gk_h *h, struct iscsi_disk *d, uint64_t lba, uint32_t nr)
{
  int try, r = -1;

  memset (d->bounce, 0, d->g.block_size);
  d->dirty = true;
  for (try = 0; try < MAX_TRIES; ++try) {
    /* With UNMAP the target may deallocate instead: the blocks still
     * read as the zero block written (SBC), LBPRZ or not.
     */
    struct scsi_task *task =
      iscsi_writesame16_sync (d->c.ctx, d->g.lun, lba, d->bounce,
                              d->g.block_size, nr, 0, d->ws_unmap, 0, 0);

    r = disk_task (h, d, task, "WRITE SAME(16)", try, NULL);
    if (r != 2)
      break;
  }
  return r;
}

static int
iscsi_disk_zero (gk_h *h, void *priv, uint64_t offset, uint64_t length)
{
  struct iscsi_disk *d = priv;
  uint32_t bs = d->g.block_size;
  uint64_t end = offset + length;
  uint64_t astart = (offset + bs - 1) / bs * bs, aend = end / bs * bs;

  /* The partial blocks at the ends, and everything without WRITE SAME. */
  if (astart >= aend || d->no_ws)
    return disk_write (h, d, NULL, length, offset);
  if (astart > offset && disk_write (h, d, NULL, astart - offset, offset) == -1)
    return -1;
  while (astart < aend) {
    uint64_t nr = (aend - astart) / bs;
    int r;

    if (nr > d->ws_max)
      nr = d->ws_max;
    r = write_same_zero (h, d, astart / bs, nr);
    if (r == -1)
      return -1;
    if (r == 0) {               /* not this target: plain zeros */
      d->no_ws = true;
      if (disk_write (h, d, NULL, aend - astart, astart) == -1)
        return -1;
      break;
    }
    astart += nr * bs;
  }
  if (end > aend && disk_write (h, d, NULL, end - aend, aend) == -1)
    return -1;
  return 0;
}

/* SYNCHRONIZE CACHE(16) of the whole LUN, else (10); a target that knows
 * neither has no cache to write back.
 */
static int
iscsi_disk_flush (gk_h *h, void *priv)
{
  struct iscsi_disk *d = priv;
  int which, try, r = 0;

  for (which = 16; which >= 10; which -= 6) {
    for (try = 0; try < MAX_TRIES; ++try) {
      struct scsi_task *task = which == 16
        ? iscsi_synchronizecache16_sync (d->c.ctx, d->g.lun, 0, 0, 0, 0)
        : iscsi_synchronizecache10_sync (d->c.ctx, d->g.lun, 0, 0, 0, 0);

      r = disk_task (h, d, task, which == 16 ? "SYNCHRONIZE CACHE(16)"
                     : "SYNCHRONIZE CACHE(10)", try, NULL);
      if (r != 2)
        break;
    }
    if (r != 0)
      break;
  }
  if (r == -1)
    return -1;
  d->dirty = false;
  return 0;
}

static int
iscsi_disk_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
                    gk_extent_cb cb, void *opaque)
{
  struct iscsi_disk *d = priv;
  uint32_t bs = d->g.block_size;
  uint64_t pos = offset, end = offset + length;

  while (pos < end && d->thin) {
    struct scsi_task *task = NULL;
    struct scsi_get_lba_status *st;
    uint64_t before = pos;
    uint32_t i;
    int try, r = -1;

    for (try = 0; try < MAX_TRIES; ++try) {
      r = disk_task (h, d, iscsi_get_lba_status_sync (d->c.ctx, d->g.lun,
                                                      pos / bs,
                                                      LBA_STATUS_LEN),
                     "GET LBA STATUS", try, &task);
      if (r != 2)
        break;
    }
    if (r == -1)
      return -1;
    if (r == 0) {               /* refused: all data from here on */
      d->thin = false;
      break;
    }
    st = scsi_datain_unmarshall (task);
    /* The descriptors follow each other from the LBA asked for. */
    for (i = 0; st != NULL && i < st->num_descriptors && pos < end; ++i) {
      const struct scsi_lba_status_descriptor *desc = &st->descriptors[i];
      uint64_t s = desc->lba * bs, e = s + (uint64_t) desc->num_blocks * bs;
      /* Unmapped blocks that may not read as zeros are not holes. */
      unsigned type = desc->provisioning == SCSI_PROVISIONING_TYPE_MAPPED ||
        !d->g.lbprz ? GK_EXTENT_DATA : GK_EXTENT_HOLE;

      if (e <= pos)
        continue;
      if (s > pos)              /* a gap no descriptor covers: data */
        type = GK_EXTENT_DATA;
      if (e > end)
        e = end;
      r = cb (opaque, pos, e - pos, type);
      if (r != 0) {
        scsi_free_scsi_task (task);
        return r;
      }
      pos = e;
    }
    scsi_free_scsi_task (task);
    /* An answer that does not move on is not to be trusted further. */
    if (pos == before) {
      debug (h, "iscsi: %s LUN %d: GET LBA STATUS at %" PRIu64 " says "
             "nothing new: the rest is data", d->target, d->g.lun, pos);
      break;
    }
  }
  if (pos < end)
    return cb (opaque, pos, end - pos, GK_EXTENT_DATA);
  return 0;
}

static void
free_disk (struct iscsi_disk *d)
{
  conn_close (&d->c);
  free (d->pool);
  free (d->vol);
  free (d->target);
  free (d->bounce);
  free (d);
}

static int
iscsi_disk_close (gk_h *h, void *priv)
{
  struct iscsi_disk *d = priv;
  int r = 0;

  if (d->rw && d->dirty)
    r = iscsi_disk_flush (h, d);
  free_disk (d);
  return r;
}

static const struct gk_disk_ops iscsi_disk_ops = {
  .name = "iscsi",
  .pread = iscsi_disk_pread,
  .extents = iscsi_disk_extents,
  .close = iscsi_disk_close,
};

/* The same, writable (GK_DISK_READWRITE). */
static const struct gk_disk_ops iscsi_disk_rw_ops = {
  .name = "iscsi",
  .pread = iscsi_disk_pread,
  .pwrite = iscsi_disk_pwrite,
  .zero = iscsi_disk_zero,
  .flush = iscsi_disk_flush,
  .extents = iscsi_disk_extents,
  .close = iscsi_disk_close,
};

static int
iscsi_vol_open_disk (gk_h *h, const struct pool_def *def, const char *name,
                     unsigned flags, struct gk_disk_source *src)
{
  struct iscsi_disk *d = calloc (1, sizeof *d);

  if (d == NULL) {
    perrorf (h, "iscsi pool");
    return -1;
  }
  if (open_vol (h, def, name, &d->c, &d->g) == -1) {
    free (d);
    return -1;
  }
  d->rw = flags & GK_DISK_READWRITE;
  /* The session outlives def: its strings become ours. */
  d->pool = strdup (def->name);
  d->vol = strdup (name);
  d->target = strdup (d->c.target);
  d->bounce = malloc (CHUNK);
  if (d->pool == NULL || d->vol == NULL || d->target == NULL ||
      d->bounce == NULL) {
    perrorf (h, "iscsi pool");
    goto err;
  }
  d->c.def = NULL;
  d->c.pool = d->pool;
  d->c.target = d->target;
  if (probe_lun (h, d) == -1)
    goto err;
  src->ops = d->rw ? &iscsi_disk_rw_ops : &iscsi_disk_ops;
  src->priv = d;
  src->size = d->g.nr_blocks * d->g.block_size;
  return 0;

 err:
  free_disk (d);
  return -1;
}

static const struct pool_backend iscsi_backend = {
  .size = sizeof (struct pool_backend),
  .type = "iscsi",
  .xml_type = "iscsi-direct",
  .check_def = iscsi_check_def,
  .refresh = iscsi_refresh,
  .vol_list = iscsi_vol_list,
  .vol_info = iscsi_vol_info,
  .vol_create = iscsi_vol_create,
  .vol_delete = iscsi_vol_delete,
  .vol_resize = iscsi_vol_resize,
  .vol_wipe = iscsi_vol_wipe,
  .vol_upload = iscsi_vol_upload,
  .vol_download = iscsi_vol_download,
  .vol_rename = iscsi_vol_rename,
  .vol_clone = iscsi_vol_clone,
  .clone_into_existing = true,
  .vol_open_disk = iscsi_vol_open_disk,
};

/* This backend is the pool-iscsi module (lib/modules.h), loaded by
 * pools/registry.c only when a pool of this type is used, so that other
 * programs never load libiscsi.  Its one export:
 */
extern const struct gk_pool_module guestkit_module;
const struct gk_pool_module guestkit_module = {
  .hdr = GK_MODULE_HEADER (struct gk_pool_module, "pool-iscsi"),
  .backend = &iscsi_backend,
};
