/* guestkit's libvirt module (domain.so): guests defined in libvirt.
 *
 * This is the only file that includes <libvirt/libvirt.h>.  It is a module
 * loaded on first use (lib/modules.h), so that programs that never ask
 * libvirt never load it; lib/domain.c holds the public functions and the
 * parsing of domain XML (libxml2 only), and forwards here.  The disks of
 * a domain for backup tools (gk_disk_open_domain: libvirt backup jobs,
 * checkpoints) are at the end.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/uri.h>
#include <libxml/entities.h>

#include "internal.h"
#include "modules.h"
#include "disk-internal.h"

/* libvirt prints every error to stderr unless told otherwise; the message
 * is copied into the handle's error instead, so silence that printing.
 */
static __thread bool show_libvirt_errors;

/* libvirt prints nothing of its own, except while the user's connection
 * is being opened: there libguestfs's tools let libvirt's default
 * handler print its line ("libvirt: Test Driver error : ...") before
 * their own error, and scripts compare stderr with theirs.
 */
static void
ignore_libvirt_error (void *opaque, virErrorPtr err)
{
  if (show_libvirt_errors)
    virDefaultErrorFunc (err);
}

static pthread_once_t libvirt_once = PTHREAD_ONCE_INIT;

static void
init_libvirt (void)
{
  virInitialize ();
  virSetErrorFunc (NULL, ignore_libvirt_error);
}

static void __attribute__ ((format (printf, 2, 0)))
libvirt_error (gk_h *h, const char *fs, const char *arg)
{
  virErrorPtr err = virGetLastError ();
  CLEANUP_FREE char *what = NULL;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  if (asprintf (&what, fs, arg) == -1)
    what = NULL;
#pragma GCC diagnostic pop
  if (err)
    error (h, "%s (code %d, domain %d): %s", what ? what : fs,
           err->code, err->domain, err->message ? err->message : "");
  else
    error (h, "%s", what ? what : fs);
}

static virConnectPtr
connect_uri (gk_h *h, const char *uri, unsigned flags)
{
  virConnectPtr conn;

  pthread_once (&libvirt_once, init_libvirt);
  debug (h, "connecting to libvirt %s%s", uri ? uri : "(default URI)",
         flags & VIR_CONNECT_RO ? " read-only" : "");
  show_libvirt_errors = true;
  conn = virConnectOpenAuth (uri, virConnectAuthPtrDefault, flags);
  show_libvirt_errors = false;
  if (conn == NULL)
    libvirt_error (h, "could not connect to libvirt%s", "");
  return conn;
}

/* A volume of a libvirt storage pool, or NULL (error set). */
static virStorageVolPtr
lookup_volume (gk_h *h, virConnectPtr conn, const char *pool_name,
               const char *vol_name)
{
  virStoragePoolPtr pool;
  virStorageVolPtr vol;

  pool = virStoragePoolLookupByName (conn, pool_name);
  if (pool == NULL) {
    libvirt_error (h, "no libvirt storage pool called '%s'", pool_name);
    return NULL;
  }
  vol = virStorageVolLookupByName (pool, vol_name);
  virStoragePoolFree (pool);
  if (vol == NULL)
    libvirt_error (h, "no volume called '%s' in the libvirt storage pool",
                   vol_name);
  return vol;
}

/* A <disk type='volume'>: ask libvirt where the volume is. */
static int
resolve_volume (gk_h *h, virConnectPtr conn, struct drive *drv)
{
  CLEANUP_FREE char *pool_name = strdup (drv->path);
  char *vol_name, *path;
  virStorageVolPtr vol;

  if (pool_name == NULL) {
    perrorf (h, "strdup");
    return -1;
  }
  vol_name = strchr (pool_name, '/');
  *vol_name++ = '\0';
  vol = lookup_volume (h, conn, pool_name, vol_name);
  if (vol == NULL)
    return -1;
  path = virStorageVolGetPath (vol);
  virStorageVolFree (vol);
  if (path == NULL) {
    libvirt_error (h, "cannot get the path of volume '%s'", vol_name);
    return -1;
  }
  free (drv->path);
  free (drv->protocol);
  drv->path = path;
  drv->protocol = strdup ("file");
  if (drv->protocol == NULL) {
    perrorf (h, "strdup");
    return -1;
  }
  return 0;
}

static int
add_domain (gk_h *h, const char *name, const char *libvirt_uri,
               unsigned flags)
{
  virConnectPtr conn;
  virDomainPtr dom;
  CLEANUP_FREE char *xml = NULL;
  drive_vector drives = empty_vector;
  bool readonly = !(flags & GK_DRIVE_READWRITE);
  int n = -1, state = 0, reason;
  size_t i;

  /* lib/domain.c checked the flags and the appliance. */
  conn = connect_uri (h, libvirt_uri, 0);
  if (conn == NULL)
    return -1;

  /* A UUID first, then a name, as virt-df and guestfish do. */
  dom = virDomainLookupByUUIDString (conn, name);
  if (dom == NULL)
    dom = virDomainLookupByName (conn, name);
  if (dom == NULL) {
    /* libguestfs's message: guestfish and virt-df users know it. */
    virErrorPtr err = virGetLastError ();

    error (h, "no libvirt domain called ‘%s’: %s", name,
           err && err->message ? err->message : "not found");
    goto out;
  }

  /* Writing to the disks of a running guest corrupts them. */
  if (!readonly && virDomainGetState (dom, &state, &reason, 0) == 0 &&
      state != VIR_DOMAIN_SHUTOFF) {
    /* libguestfs's message, word for word (three lines). */
    error_errno (h, EBUSY, "error: domain is a live virtual machine.\n"
                 "Writing to the disks of a running virtual machine can "
                 "cause disk corruption.\n"
                 "Use read-only access.  In most libguestfs tools use --ro.");
    goto out;
  }

  xml = virDomainGetXMLDesc (dom, 0);
  if (xml == NULL) {
    libvirt_error (h, "error reading libvirt XML of '%s'", name);
    goto out;
  }
  n = gk_int_drives_from_domain_xml (h, xml, readonly, &drives);
  if (n == -1)
    goto out;
  if (n == 0) {
    error_errno (h, ENOENT, "libvirt domain has no disks");
    n = -1;
    goto out;
  }
  for (i = 0; i < drives.len; ++i) {
    struct drive *drv = &drives.ptr[i];

    if (strcmp (drv->protocol, "volume") == 0 &&
        resolve_volume (h, conn, drv) == -1) {
      n = -1;
      goto out;
    }
    /* A missing disk is an error now, as for gk_add_drive. */
    if (strcmp (drv->protocol, "file") == 0 &&
        access (drv->path, drv->readonly ? R_OK : R_OK|W_OK) == -1) {
      perrorf (h, "%s", drv->path);
      n = -1;
      goto out;
    }
  }
  /* All or nothing: add the drives only when every one was understood. */
  if (drive_vector_reserve (&h->drives, drives.len) == -1) {
    perrorf (h, "add_domain");
    n = -1;
    goto out;
  }
  for (i = 0; i < drives.len; ++i)
    gk_int_add_drive_struct (h, &drives.ptr[i]);

 out:
  for (i = 0; i < drives.len; ++i)
    gk_int_free_drive (&drives.ptr[i]);
  drive_vector_reset (&drives);
  if (dom)
    virDomainFree (dom);
  virConnectClose (conn);
  return n;
}

static int
compare_domain_names (const void *a, const void *b)
{
  const struct gk_domain *da = a, *db = b;

  return strcmp (da->name, db->name);
}

static int
list_domains (gk_h *h, const char *libvirt_uri,
                 struct gk_domain **domains_rtn, size_t *n_rtn)
{
  virConnectPtr conn;
  virDomainPtr *doms = NULL;
  struct gk_domain *ret;
  int i, n;
  size_t nret = 0;

  conn = connect_uri (h, libvirt_uri, VIR_CONNECT_RO);
  if (conn == NULL)
    return -1;
  n = virConnectListAllDomains (conn, &doms, 0);
  if (n == -1) {
    libvirt_error (h, "could not list domains%s", "");
    virConnectClose (conn);
    return -1;
  }
  ret = calloc (n + 1, sizeof *ret);
  if (ret == NULL) {
    perrorf (h, "list_domains");
    goto out;
  }
  for (i = 0; i < n; ++i) {
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName (doms[i]);

    /* Xen's dom0 is the host, not a guest (RHBZ#538041). */
    if (virDomainGetID (doms[i]) == 0 || name == NULL)
      continue;
    ret[nret].name = strdup (name);
    if (virDomainGetUUIDString (doms[i], uuid) == 0)
      ret[nret].uuid = strdup (uuid);
    if (ret[nret].name == NULL) {
      perrorf (h, "list_domains");
      gk_free_domains (ret, nret);
      ret = NULL;
      goto out;
    }
    nret++;
  }
  qsort (ret, nret, sizeof *ret, compare_domain_names);
  *domains_rtn = ret;
  *n_rtn = nret;

 out:
  for (i = 0; i < n; ++i)
    virDomainFree (doms[i]);
  free (doms);
  virConnectClose (conn);
  return ret ? 0 : -1;
}

/* The libvirt domains (read-only connection to libvirt's default URI)
 * with a disk on this path, or NULL with nothing set if libvirt cannot be
 * asked: a check for warnings, never a reason to fail.
 */
static char **
domains_using_path (gk_h *h, const char *path)
{
  virConnectPtr conn;
  virDomainPtr *doms = NULL;
  string_vector users = empty_vector;
  int i, n;

  pthread_once (&libvirt_once, init_libvirt);
  conn = virConnectOpenReadOnly (NULL);
  if (conn == NULL) {
    debug (h, "no libvirt to ask whether %s is in use", path);
    return NULL;
  }
  n = virConnectListAllDomains (conn, &doms, 0);
  for (i = 0; i < n; ++i) {
    CLEANUP_FREE char *xml = virDomainGetXMLDesc (doms[i], 0);
    drive_vector drives = empty_vector;
    size_t j;
    bool used = false;

    if (xml) {
      gk_push_error_handler (h, NULL, NULL);
      gk_int_drives_from_domain_xml (h, xml, true, &drives);
      gk_pop_error_handler (h);
    }
    for (j = 0; j < drives.len; ++j) {
      if (strcmp (drives.ptr[j].path, path) == 0)
        used = true;
      gk_int_free_drive (&drives.ptr[j]);
    }
    drive_vector_reset (&drives);
    if (used) {
      char *name = strdup (virDomainGetName (doms[i]));
      if (name)
        string_vector_append (&users, name);
    }
    virDomainFree (doms[i]);
  }
  free (doms);
  virConnectClose (conn);
  string_vector_terminate (&users);
  return users.ptr;
}

/* virt-clone's calls.  Each opens its own connection: they are few. */
static char *
get_domain_xml (gk_h *h, const char *uri, const char *name, bool *shutoff_rtn)
{
  virConnectPtr conn = connect_uri (h, uri, 0);
  virDomainPtr dom;
  char *xml = NULL;
  int state = 0, reason;

  if (conn == NULL)
    return NULL;
  dom = virDomainLookupByName (conn, name);
  if (dom == NULL)
    dom = virDomainLookupByUUIDString (conn, name);
  if (dom == NULL) {
    error_errno (h, ENOENT, "Domain '%s' was not found.", name);
    goto out;
  }
  if (virDomainGetState (dom, &state, &reason, 0) == -1) {
    libvirt_error (h, "cannot get the state of domain '%s'", name);
    goto out;
  }
  *shutoff_rtn = state == VIR_DOMAIN_SHUTOFF;
  xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE |
                             VIR_DOMAIN_XML_SECURE);
  if (xml == NULL)
    libvirt_error (h, "error reading libvirt XML of '%s'", name);
 out:
  if (dom)
    virDomainFree (dom);
  virConnectClose (conn);
  return xml;
}

static char **
all_domain_xml (gk_h *h, const char *uri)
{
  virConnectPtr conn = connect_uri (h, uri, 0);
  virDomainPtr *doms = NULL;
  string_vector xmls = empty_vector;
  int i, n;
  bool ok = true;

  if (conn == NULL)
    return NULL;
  n = virConnectListAllDomains (conn, &doms, 0);
  if (n == -1) {
    libvirt_error (h, "could not list domains%s", "");
    virConnectClose (conn);
    return NULL;
  }
  for (i = 0; i < n; ++i) {
    char *xml = virDomainGetXMLDesc (doms[i], VIR_DOMAIN_XML_INACTIVE);

    /* A domain undefined meanwhile is no longer there to collide with. */
    if (xml && string_vector_append (&xmls, xml) == -1) {
      free (xml);
      ok = false;
    }
    virDomainFree (doms[i]);
  }
  free (doms);
  virConnectClose (conn);
  if (!ok || string_vector_terminate (&xmls) == -1) {
    perrorf (h, "all_domain_xml");
    string_vector_free_all (&xmls);
    return NULL;
  }
  return xmls.ptr;
}

static int
domain_exists (gk_h *h, const char *uri, const char *name)
{
  virConnectPtr conn = connect_uri (h, uri, 0);
  virDomainPtr dom;

  if (conn == NULL)
    return -1;
  dom = virDomainLookupByName (conn, name);
  if (dom)
    virDomainFree (dom);
  virConnectClose (conn);
  return dom != NULL;
}

static int
define_xml (gk_h *h, const char *uri, const char *xml)
{
  virConnectPtr conn = connect_uri (h, uri, 0);
  virDomainPtr dom;

  if (conn == NULL)
    return -1;
  dom = virDomainDefineXML (conn, xml);
  if (dom == NULL)
    libvirt_error (h, "could not define the new domain%s", "");
  else
    virDomainFree (dom);
  virConnectClose (conn);
  return dom ? 0 : -1;
}

static int
undefine (gk_h *h, const char *uri, const char *name)
{
  virConnectPtr conn = connect_uri (h, uri, 0);
  virDomainPtr dom;
  int state = 0, reason, r = -1;

  if (conn == NULL)
    return -1;
  dom = virDomainLookupByName (conn, name);
  if (dom == NULL) {
    libvirt_error (h, "Could not remove old vm '%s'", name);
    goto out;
  }
  if (virDomainGetState (dom, &state, &reason, 0) == 0 &&
      state != VIR_DOMAIN_SHUTOFF && virDomainDestroy (dom) == -1) {
    libvirt_error (h, "Could not remove old vm '%s': cannot stop it", name);
    goto out;
  }
  if (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
                              VIR_DOMAIN_UNDEFINE_KEEP_TPM |
                              VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                              VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                              VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) == -1) {
    libvirt_error (h, "Could not remove old vm '%s'", name);
    goto out;
  }
  r = 0;
 out:
  if (dom)
    virDomainFree (dom);
  virConnectClose (conn);
  return r;
}

static char *
driver_type (gk_h *h, const char *uri)
{
  virConnectPtr conn = connect_uri (h, uri, VIR_CONNECT_RO);
  const char *type;
  char *ret = NULL;

  if (conn == NULL)
    return NULL;
  type = virConnectGetType (conn);
  if (type == NULL)
    libvirt_error (h, "could not get the hypervisor type%s", "");
  else if ((ret = strdup (type)) == NULL)
    perrorf (h, "strdup");
  virConnectClose (conn);
  return ret;
}

/* Block-level access for backup tools (gk_disk_open_domain).
 *
 * A shut-off domain's disks are opened where they live, with the format
 * its XML records (never probed).  A running domain's disks are read
 * through a libvirt backup job in pull mode: qemu serves a point-in-time
 * view of every disk over NBD on a Unix socket in a private directory
 * (keeping it with copy-before-write into scratch files beside it),
 * optionally with the blocks changed since a checkpoint as the meta
 * context "qemu:dirty-bitmap:backup-<target>", and optionally creating a
 * checkpoint at that same instant.  The job is shared by the domain's
 * disks and ends (virDomainAbortJob: the way a pull-mode job ends) when
 * the last of them is closed.
 */

/* One <disk device='disk'> of the domain XML. */
struct dom_disk {
  char *target;                 /* "vda" */
  char *type;                   /* file, block, network, volume */
  char *format;                 /* <driver type>, NULL if none */
  char *path;                   /* file or block device */
  char *protocol, *name;        /* network: protocol, source name */
  char *socket;                 /* network: <host transport='unix'> */
  char *host;                   /* network: hosts[0] (not a copy) */
  char **hosts;                 /* network: every "host[:port]" */
  char *pool, *volume;          /* volume */
  bool auth;                    /* network: with <auth> (a secret) */
};
DEFINE_VECTOR_TYPE (dom_disk_vector, struct dom_disk);

static void
free_dom_disk (struct dom_disk *d)
{
  free (d->target);
  free (d->type);
  free (d->format);
  free (d->path);
  free (d->protocol);
  free (d->name);
  free (d->socket);
  gk_free_string_list (d->hosts);
  free (d->pool);
  free (d->volume);
}

static void
free_dom_disks (dom_disk_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; ++i)
    free_dom_disk (&v->ptr[i]);
  dom_disk_vector_reset (v);
}

/* The text of the first node expr selects relative to node (malloc'd),
 * or NULL.
 */
static char *
xml_get (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj = NULL;
  CLEANUP_XMLFREE xmlChar *s = NULL;

  ctx->node = node;
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  if (obj == NULL || obj->type != XPATH_NODESET ||
      obj->nodesetval == NULL || obj->nodesetval->nodeNr == 0)
    return NULL;
  s = xmlNodeGetContent (obj->nodesetval->nodeTab[0]);
  return s ? strdup ((char *) s) : NULL;
}

/* The nodes expr selects relative to node (never NULL but on ENOMEM). */
static xmlXPathObjectPtr
xml_nodes (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  ctx->node = node;
  return xmlXPathEvalExpression (BAD_CAST expr, ctx);
}

static inline int
xml_count (xmlXPathObjectPtr obj)
{
  return obj && obj->type == XPATH_NODESET && obj->nodesetval ?
    obj->nodesetval->nodeNr : 0;
}

static int
xml_open (gk_h *h, const char *xml, const char *what, xmlDocPtr *doc,
          xmlXPathContextPtr *ctx)
{
  *doc = xmlReadMemory (xml, strlen (xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
  if (*doc == NULL) {
    error_errno (h, EINVAL, "cannot parse the libvirt XML of %s", what);
    return -1;
  }
  *ctx = xmlXPathNewContext (*doc);
  if (*ctx == NULL) {
    perrorf (h, "xmlXPathNewContext");
    return -1;
  }
  return 0;
}

/* <source protocol= name=><host name= port= transport= socket=/>. */
static int
parse_network_source (xmlXPathContextPtr ctx, xmlNodePtr node,
                      struct dom_disk *d)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr hosts = NULL, auth = NULL;
  string_vector v = empty_vector;
  int i, n;

  d->protocol = xml_get (ctx, node, "./source/@protocol");
  d->name = xml_get (ctx, node, "./source/@name");
  hosts = xml_nodes (ctx, node, "./source/host");
  n = xml_count (hosts);
  for (i = 0; i < n; ++i) {
    xmlNodePtr hn = hosts->nodesetval->nodeTab[i];
    CLEANUP_FREE char *name = xml_get (ctx, hn, "./@name");
    CLEANUP_FREE char *port = xml_get (ctx, hn, "./@port");
    CLEANUP_FREE char *transport = xml_get (ctx, hn, "./@transport");
    char *s;

    if (transport && strcmp (transport, "unix") == 0) {
      if (d->socket == NULL)
        d->socket = xml_get (ctx, hn, "./@socket");
      continue;
    }
    if (asprintf (&s, "%s%s%s", name ? name : "localhost",
                  port ? ":" : "", port ? port : "") == -1 ||
        string_vector_append (&v, s) == -1) {
      string_vector_free_all (&v);
      return -1;
    }
  }
  if (string_vector_terminate (&v) == -1) {
    string_vector_free_all (&v);
    return -1;
  }
  d->hosts = v.ptr;
  d->host = d->hosts[0];
  /* Credentials would come from a libvirt secret. */
  auth = xml_nodes (ctx, node, "./auth | ./source/auth");
  d->auth = xml_count (auth) > 0;
  return 0;
}

/* Every disk of the domain XML with media: not cdroms, floppies or luns
 * (not the guest's disks), nor disks without a <source> (no data).
 */
static int
parse_dom_disks (gk_h *h, const char *domname, xmlXPathContextPtr ctx,
                 dom_disk_vector *disks)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr nodes = NULL;
  int i, n;

  nodes = xml_nodes (ctx, NULL, "/domain/devices/disk"
                     "[not(@device) or @device='disk'][source]");
  n = xml_count (nodes);
  for (i = 0; i < n; ++i) {
    xmlNodePtr node = nodes->nodesetval->nodeTab[i];
    struct dom_disk d = { 0 };

    d.target = xml_get (ctx, node, "./target/@dev");
    if (d.target == NULL) {
      error_errno (h, EINVAL, "%s: libvirt XML: a <disk> without "
                   "<target dev=...>", domname);
      return -1;
    }
    d.type = xml_get (ctx, node, "./@type");
    if (d.type == NULL)
      d.type = strdup ("file");
    d.format = xml_get (ctx, node, "./driver/@type");
    d.path = xml_get (ctx, node, "./source/@file");
    if (d.path == NULL)
      d.path = xml_get (ctx, node, "./source/@dev");
    d.pool = xml_get (ctx, node, "./source/@pool");
    d.volume = xml_get (ctx, node, "./source/@volume");
    if (d.type == NULL ||
        (strcmp (d.type, "network") == 0 &&
         parse_network_source (ctx, node, &d) == -1) ||
        dom_disk_vector_append (disks, d) == -1) {
      perrorf (h, "libvirt XML");
      free_dom_disk (&d);
      return -1;
    }
  }
  return 0;
}

/* The domain (by UUID, then by name, as add_domain looks it up). */
static virDomainPtr
lookup_domain (gk_h *h, virConnectPtr conn, const char *name)
{
  virDomainPtr dom = virDomainLookupByUUIDString (conn, name);

  if (dom == NULL)
    dom = virDomainLookupByName (conn, name);
  if (dom == NULL) {
    virErrorPtr err = virGetLastError ();

    error_errno (h, ENOENT, "no libvirt domain called ‘%s’: %s", name,
                 err && err->message ? err->message : "not found");
  }
  return dom;
}

/* Shut off. */

/* A <disk type='volume'>: where the libvirt pool keeps it. */
static char *
volume_path (gk_h *h, virConnectPtr conn, const struct dom_disk *d)
{
  virStorageVolPtr vol;
  virStorageVolInfo info;
  char *path = NULL;

  if (d->pool == NULL || d->volume == NULL) {
    error_errno (h, EINVAL, "%s: <source> of a volume disk without pool "
                 "and volume", d->target);
    return NULL;
  }
  vol = lookup_volume (h, conn, d->pool, d->volume);
  if (vol == NULL)
    return NULL;
  if (virStorageVolGetInfo (vol, &info) == -1)
    libvirt_error (h, "cannot get the type of volume '%s'", d->volume);
  else if (info.type != VIR_STORAGE_VOL_FILE &&
           info.type != VIR_STORAGE_VOL_BLOCK)
    error_errno (h, ENOTSUP, "%s: volume %s/%s is not a file or a block "
                 "device (a network volume): not supported for shut-off "
                 "domains", d->target, d->pool, d->volume);
  else if ((path = virStorageVolGetPath (vol)) == NULL)
    libvirt_error (h, "cannot get the path of volume '%s'", d->volume);
  virStorageVolFree (vol);
  return path;
}

/* A network disk as the URI qemu's block layer reads ("rbd:POOL/IMAGE"
 * is qemu's own syntax; the others are URIs).  Credentials would have to
 * go on qemu-nbd's command line: refused.
 */
static char *
network_uri (gk_h *h, const struct dom_disk *d)
{
  char *uri = NULL;
  int r;

  if (d->protocol == NULL) {
    error_errno (h, EINVAL, "%s: <disk type='network'> without a "
                 "<source protocol=...>", d->target);
    return NULL;
  }
  if (d->auth) {
    error_errno (h, ENOTSUP, "%s: %s disk with <auth>: reading it shut off "
                 "needs its secret on a command line; not supported",
                 d->target, d->protocol);
    return NULL;
  }
  if (strcmp (d->protocol, "nbd") == 0 && d->socket)
    r = asprintf (&uri, "nbd+unix:///%s?socket=%s", d->name ? d->name : "",
                  d->socket);
  else if (strcmp (d->protocol, "rbd") == 0) {
    CLEANUP_FREE char *mon = NULL;
    size_t i, j, len = 0;

    /* mon_host=h1\:p1\;h2\:p2 (qemu's separators escaped). */
    for (i = 0; d->hosts && d->hosts[i]; ++i)
      len += 2 * strlen (d->hosts[i]) + 2;
    if (len > 0) {
      char *p = mon = malloc (len + 1);

      if (mon == NULL)
        goto oom;
      for (i = 0; d->hosts[i]; ++i) {
        if (i > 0)
          *p++ = '\\', *p++ = ';';
        for (j = 0; d->hosts[i][j]; ++j) {
          if (d->hosts[i][j] == ':')
            *p++ = '\\';
          *p++ = d->hosts[i][j];
        }
      }
      *p = '\0';
    }
    r = asprintf (&uri, "rbd:%s%s%s", d->name ? d->name : "",
                  mon ? ":mon_host=" : "", mon ? mon : "");
  }
  else if (d->host == NULL) {
    error_errno (h, EINVAL, "%s: %s disk without a <host>", d->target,
                 d->protocol);
    return NULL;
  }
  else
    r = asprintf (&uri, "%s://%s/%s", d->protocol, d->host,
                  d->name ? d->name : "");
  if (r == -1)
    goto oom;
  return uri;

 oom:
  perrorf (h, "%s", d->target);
  return NULL;
}

static gk_disk *
open_shutoff_disk (gk_h *h, virConnectPtr conn, const struct dom_disk *d,
                   unsigned flags)
{
  struct gk_disk_source src = { 0 };
  CLEANUP_FREE char *path = NULL;
  /* No driver type: qemu reads it as raw, and so do we (never probe). */
  const char *format = d->format ? d->format : "raw";
  int r;

  flags &= GK_DISK_READWRITE;
  if (strcmp (d->type, "file") == 0 || strcmp (d->type, "block") == 0 ||
      strcmp (d->type, "volume") == 0) {
    if (strcmp (d->type, "volume") == 0)
      path = volume_path (h, conn, d);
    else if (d->path == NULL)
      error_errno (h, EINVAL, "%s: <source> names no file", d->target);
    else
      path = strdup (d->path);
    if (path == NULL)
      return NULL;
    r = gk_int_disk_open_file (h, path, format, flags, &src);
  }
  else if (strcmp (d->type, "network") == 0 && d->protocol &&
           strcmp (d->protocol, "rbd") == 0 && d->name &&
           strchr (d->name, '/')) {
    /* An rbd image of a guestkit rbd pool: librbd, snapshots. */
    CLEANUP_FREE char *ceph_pool = strndup (d->name, strcspn (d->name, "/"));
    CLEANUP_FREE char *gkpool = NULL;
    const char *image = strchr (d->name, '/') + 1;

    if (ceph_pool == NULL) {
      perrorf (h, "%s", d->target);
      return NULL;
    }
    gkpool = gk_int_pool_find_rbd (h, ceph_pool, d->hosts ? d->hosts[0] : NULL);
    if (gkpool) {
      CLEANUP_FREE char *fmt = NULL;

      debug (h, "backup: %s: rbd image %s of guestkit pool %s", d->target,
             d->name, gkpool);
      if (gk_int_vol_open_disk (h, gkpool, image, flags, &src, &path,
                                &fmt) == -1)
        return NULL;
      return gk_int_disk_new (h, &src, d->target, path, fmt, flags);
    }
    path = network_uri (h, d);
    if (path == NULL)
      return NULL;
    r = gk_int_disk_open_qemu_nbd (h, path, format, flags, NULL, &src);
  }
  else if (strcmp (d->type, "network") == 0) {
    path = network_uri (h, d);
    if (path == NULL)
      return NULL;
    if (strncmp (path, "nbd", 3) == 0 && strcmp (format, "raw") == 0)
      r = gk_int_disk_open_nbd (h, path, NULL, NULL, NULL, flags, &src);
    else
      r = gk_int_disk_open_qemu_nbd (h, path, format, flags, NULL, &src);
  }
  else {
    error_errno (h, ENOTSUP, "%s: <disk type='%s'>: not supported",
                 d->target, d->type);
    return NULL;
  }
  if (r == -1)
    return NULL;
  return gk_int_disk_new (h, &src, d->target, path, format, flags);
}

static int
open_shutoff (gk_h *h, virConnectPtr conn, const dom_disk_vector *disks,
              unsigned flags, gk_disk **ret)
{
  size_t i;

  for (i = 0; i < disks->len; ++i) {
    ret[i] = open_shutoff_disk (h, conn, &disks->ptr[i], flags);
    if (ret[i] == NULL) {
      while (i > 0)
        gk_disk_close (ret[--i]);
      return -1;
    }
  }
  return 0;
}

/* Running: the backup job. */

struct backup_job {
  virConnectPtr conn;
  virDomainPtr dom;
  char *domname;
  char *dir;                    /* private: socket and scratch files */
  char *socket;
  char *since;                  /* incremental since, or NULL */
  char *checkpoint;             /* to create with the job, or NULL */
  bool made_checkpoint;         /* libvirt created it */
  string_vector deleted;        /* checkpoints deleted through the job */
  size_t refs;                  /* disks using it */
  bool begun;                   /* the libvirt job is running */
};

/* One disk of a running domain: an export of the job. */
struct job_disk {
  struct backup_job *job;
  void *nbd;                    /* gk_int_disk_nbd_ops' priv */
  char *target;
  char *format;
  bool qcow2;                   /* can have checkpoints */
  bool bitmap;                  /* the export has the dirty bitmap */
};

/* Remove the private directory and what is left in it (libvirt removes
 * the scratch files it created, qemu its socket).
 */
static void
remove_dir (gk_h *h, const char *dir)
{
  DIR *dh = opendir (dir);
  struct dirent *e;

  if (dh) {
    while ((e = readdir (dh)) != NULL)
      if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0 &&
          unlinkat (dirfd (dh), e->d_name, 0) == -1)
        debug (h, "backup: cannot remove %s/%s: %m", dir, e->d_name);
    closedir (dh);
  }
  if (rmdir (dir) == -1 && errno != ENOENT)
    debug (h, "backup: cannot remove %s: %m", dir);
}

/* End the job: abort it (a pull-mode job only ends so), and wait until
 * libvirt has let go of the domain, so that it can be backed up again at
 * once.  quiet: on a failure path, where the first error must stay.
 */
static int
end_job (gk_h *h, struct backup_job *job, bool quiet)
{
  virDomainJobInfo info;
  int i;

  if (!job->begun)
    return 0;
  job->begun = false;
  debug (h, "backup: %s: ending the backup job", job->domname);
  if (virDomainAbortJob (job->dom) == -1) {
    if (quiet)
      debug (h, "backup: %s: virDomainAbortJob failed", job->domname);
    else {
      libvirt_error (h, "%s: cannot end the backup job", job->domname);
      return -1;
    }
  }
  for (i = 0; i < 300; ++i) {
    if (virDomainGetJobInfo (job->dom, &info) == -1 ||
        info.type == VIR_DOMAIN_JOB_NONE)
      break;
    usleep (100000);
  }
  return 0;
}

static void
free_job (struct backup_job *job)
{
  if (job->dom)
    virDomainFree (job->dom);
  if (job->conn)
    virConnectClose (job->conn);
  free (job->domname);
  free (job->dir);
  free (job->socket);
  free (job->since);
  free (job->checkpoint);
  string_vector_free_all (&job->deleted);
  free (job);
}

/* Undo what a failed open did: the job, then the checkpoint it made
 * (only its own bitmaps go: the checkpoints before it stay whole).
 */
static void
fail_job (gk_h *h, struct backup_job *job)
{
  end_job (h, job, true);
  if (job->made_checkpoint) {
    virDomainCheckpointPtr cp =
      virDomainCheckpointLookupByName (job->dom, job->checkpoint, 0);

    if (cp == NULL || virDomainCheckpointDelete (cp, 0) == -1)
      debug (h, "backup: %s: cannot delete checkpoint %s", job->domname,
             job->checkpoint);
    if (cp)
      virDomainCheckpointFree (cp);
  }
  if (job->dir)
    remove_dir (h, job->dir);
  free_job (job);
}

static int
job_unref (gk_h *h, struct backup_job *job)
{
  int r;

  if (--job->refs > 0)
    return 0;
  r = end_job (h, job, false);
  remove_dir (h, job->dir);
  free_job (job);
  return r;
}

static int
jd_pread (gk_h *h, void *priv, void *buf, size_t count, uint64_t offset)
{
  struct job_disk *jd = priv;

  return gk_int_disk_nbd_ops.pread (h, jd->nbd, buf, count, offset);
}

/* libnbd calls block status callbacks with its handle locked, and the
 * caller's callback may read the same export (gk_disk_read_extents
 * does): collect the extents of a window, hand them on after the call.
 */
struct extent {
  uint64_t offset, length;
  unsigned type;
};
DEFINE_VECTOR_TYPE (extent_vector, struct extent);

#define EXTENT_WINDOW (UINT64_C (1) << 30)

static int
collect_extent (void *opaque, uint64_t offset, uint64_t length,
                unsigned type)
{
  extent_vector *v = opaque;
  struct extent e = { offset, length, type };

  return extent_vector_append (v, e) == -1 ? -1 : 0;
}

/* dirty: the changed ranges, else the allocation. */
static int
jd_walk (gk_h *h, struct job_disk *jd, bool dirty, uint64_t offset,
         uint64_t length, gk_extent_cb cb, void *opaque)
{
  extent_vector v = empty_vector;
  uint64_t end = offset + length;
  size_t i;
  int r = 0;

  while (r == 0 && offset < end) {
    uint64_t n = end - offset < EXTENT_WINDOW ? end - offset : EXTENT_WINDOW;

    v.len = 0;
    errno = 0;
    r = dirty ?
      gk_int_disk_nbd_dirty (h, jd->nbd, offset, n, collect_extent, &v) :
      gk_int_disk_nbd_ops.extents (h, jd->nbd, offset, n, collect_extent, &v);
    if (r != 0) {
      if (errno == ENOMEM)
        perrorf (h, "%s: extents", jd->target);
      r = -1;
      break;
    }
    for (i = 0; r == 0 && i < v.len; ++i)
      r = cb (opaque, v.ptr[i].offset, v.ptr[i].length, v.ptr[i].type);
    offset += n;
  }
  extent_vector_reset (&v);
  return r;
}

static int
jd_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
            gk_extent_cb cb, void *opaque)
{
  return jd_walk (h, priv, false, offset, length, cb, opaque);
}

static int
not_qcow2 (gk_h *h, struct job_disk *jd)
{
  error_errno (h, ENOTSUP, "%s: checkpoints need qcow2 disks (this disk "
               "of domain %s is %s)", jd->target, jd->job->domname,
               jd->format ? jd->format : "raw");
  return -1;
}

static int
jd_changed_extents (gk_h *h, void *priv, const char *since,
                    uint64_t offset, uint64_t length, gk_extent_cb cb,
                    void *opaque)
{
  struct job_disk *jd = priv;
  struct backup_job *job = jd->job;

  /* The job's bitmap is the only one qemu exports. */
  if (job->since == NULL || strcmp (since, job->since) != 0) {
    error_errno (h, EINVAL, "%s: changes since checkpoint %s: the disks of "
                 "running domain %s were opened %s%s (ask when opening "
                 "the domain)", jd->target, since, job->domname,
                 job->since ? "for changes since " : "without a checkpoint",
                 job->since ? job->since : "");
    return -1;
  }
  if (!jd->bitmap) {
    if (!jd->qcow2)
      return not_qcow2 (h, jd);
    error_errno (h, ENOENT, "%s: checkpoint %s of domain %s has no bitmap "
                 "for this disk (added later?)", jd->target, since,
                 job->domname);
    return -1;
  }
  return jd_walk (h, jd, true, offset, length, cb, opaque);
}

/* The checkpoint of a running domain is made with the job, at the
 * instant of the view the disks show: asking for it again says yes.
 */
static int
jd_checkpoint_create (gk_h *h, void *priv, const char *name)
{
  struct job_disk *jd = priv;
  struct backup_job *job = jd->job;

  if (!jd->qcow2)
    return not_qcow2 (h, jd);
  if (job->checkpoint && strcmp (name, job->checkpoint) == 0)
    return 0;
  error_errno (h, EINVAL, "%s: checkpoint %s: the checkpoint of running "
               "domain %s is made when its disks are opened (these were "
               "opened %s%s)", jd->target, name, job->domname,
               job->checkpoint ? "with checkpoint " : "without one",
               job->checkpoint ? job->checkpoint : "");
  return -1;
}

/* A libvirt checkpoint belongs to the domain: deleting it through one
 * disk deletes every disk's bitmap, so the other disks then say yes.
 */
static int
jd_checkpoint_delete (gk_h *h, void *priv, const char *name)
{
  struct job_disk *jd = priv;
  struct backup_job *job = jd->job;
  virDomainCheckpointPtr cp;
  char *deleted;
  size_t i;
  int r;

  if (!jd->qcow2)
    return not_qcow2 (h, jd);
  for (i = 0; i < job->deleted.len; ++i)
    if (strcmp (job->deleted.ptr[i], name) == 0)
      return 0;
  cp = virDomainCheckpointLookupByName (job->dom, name, 0);
  if (cp == NULL) {
    virErrorPtr err = virGetLastError ();

    error_errno (h, ENOENT, "%s: no checkpoint %s of domain %s: %s",
                 jd->target, name, job->domname,
                 err && err->message ? err->message : "not found");
    return -1;
  }
  /* Default flags: libvirt removes the checkpoint's bitmaps (each
   * checkpoint's bitmap records on its own: the others stay valid).
   */
  r = virDomainCheckpointDelete (cp, 0);
  virDomainCheckpointFree (cp);
  if (r == -1) {
    libvirt_error (h, "cannot delete checkpoint %s", name);
    return -1;
  }
  deleted = strdup (name);
  if (deleted == NULL || string_vector_append (&job->deleted, deleted) == -1) {
    free (deleted);
    debug (h, "backup: out of memory recording checkpoint %s", name);
  }
  return 0;
}

/* Does the checkpoint XML give target a bitmap? */
static bool
checkpoint_has_disk (gk_h *h, const char *xml, const char *target)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj = NULL;
  int i, n;

  if (xml_open (h, xml, "a checkpoint", &doc, &ctx) == -1)
    return false;
  obj = xml_nodes (ctx, NULL, "/domaincheckpoint/disks/disk"
                   "[@checkpoint='bitmap']");
  n = xml_count (obj);
  for (i = 0; i < n; ++i) {
    CLEANUP_FREE char *name = xml_get (ctx, obj->nodesetval->nodeTab[i],
                                       "./@name");

    if (name && strcmp (name, target) == 0)
      return true;
  }
  return false;
}

/* The domain's checkpoints that have a bitmap of this disk, oldest
 * first (parents before children).
 */
static char **
jd_checkpoint_list (gk_h *h, void *priv)
{
  struct job_disk *jd = priv;
  virDomainCheckpointPtr *cps = NULL;
  string_vector names = empty_vector;
  int i, n;
  bool ok = true;

  if (!jd->qcow2) {
    not_qcow2 (h, jd);
    return NULL;
  }
  n = virDomainListAllCheckpoints (jd->job->dom, &cps,
                                   VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL);
  if (n == -1) {
    libvirt_error (h, "cannot list the checkpoints of %s", jd->job->domname);
    return NULL;
  }
  for (i = 0; i < n; ++i) {
    CLEANUP_FREE char *xml = NULL;

    if (ok) {
      xml = virDomainCheckpointGetXMLDesc (cps[i],
                                           VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN);
      if (xml == NULL) {
        libvirt_error (h, "cannot read checkpoint %s",
                       virDomainCheckpointGetName (cps[i]));
        ok = false;
      }
      else if (checkpoint_has_disk (h, xml, jd->target)) {
        char *s = strdup (virDomainCheckpointGetName (cps[i]));

        if (s == NULL || string_vector_append (&names, s) == -1) {
          free (s);
          perrorf (h, "checkpoint list");
          ok = false;
        }
      }
    }
    virDomainCheckpointFree (cps[i]);
  }
  free (cps);
  if (ok && string_vector_terminate (&names) == -1) {
    perrorf (h, "checkpoint list");
    ok = false;
  }
  if (!ok) {
    string_vector_free_all (&names);
    return NULL;
  }
  return names.ptr;
}

static int
jd_close (gk_h *h, void *priv)
{
  struct job_disk *jd = priv;
  int r = 0;

  if (jd->nbd && gk_int_disk_nbd_ops.close (h, jd->nbd) == -1)
    r = -1;
  if (job_unref (h, jd->job) == -1)
    r = -1;
  free (jd->target);
  free (jd->format);
  free (jd);
  return r;
}

static const struct gk_disk_ops job_disk_ops = {
  .name = "libvirt-backup",
  .pread = jd_pread,
  .extents = jd_extents,
  .checkpoint_create = jd_checkpoint_create,
  .checkpoint_delete = jd_checkpoint_delete,
  .checkpoint_list = jd_checkpoint_list,
  .changed_extents = jd_changed_extents,
  .close = jd_close,
};

/* Where a running domain's disk lives, for gk_disk_get_source. */
static char *
describe_source (const struct dom_disk *d)
{
  char *s;

  if (d->path)
    return strdup (d->path);
  if (d->pool && d->volume &&
      asprintf (&s, "%s/%s", d->pool, d->volume) != -1)
    return s;
  if (d->protocol && asprintf (&s, "%s:%s", d->protocol,
                               d->name ? d->name : "") != -1)
    return s;
  return strdup (d->target);
}

static bool
is_qcow2 (const struct dom_disk *d)
{
  return d->format && strcmp (d->format, "qcow2") == 0;
}

/* qemu runs as the user of the domain's DAC label ("+64055:+64055",
 * libvirt-qemu on Debian), and must create its socket and open its
 * scratch files in our private directory: it gets the directory.
 */
static int
give_dir_to_qemu (gk_h *h, xmlXPathContextPtr ctx, const char *dir)
{
  CLEANUP_FREE char *label =
    xml_get (ctx, NULL, "/domain/seclabel[@model='dac']/label");
  long uid, gid;
  char *p;

  if (label == NULL)
    return 0;
  /* "+UID:+GID" (libvirt's numeric form); names are not resolved. */
  if (label[0] != '+' || (uid = strtol (label + 1, &p, 10)) < 0 ||
      p[0] != ':' || p[1] != '+' || (gid = strtol (p + 2, &p, 10)) < 0 ||
      *p) {
    debug (h, "backup: DAC label %s not understood: keeping %s ours", label,
           dir);
    return 0;
  }
  if ((uid_t) uid == geteuid ())
    return 0;
  if (chown (dir, uid, gid) == -1) {
    perrorf (h, "the domain's qemu runs as uid %ld and needs a private "
             "directory for its NBD socket: chown %s", uid, dir);
    return -1;
  }
  return 0;
}

/* Is the libvirt connection to another machine?  Then the Unix socket
 * and the scratch files would be there.
 */
static int
check_local (gk_h *h, virConnectPtr conn, const char *domname)
{
  CLEANUP_FREE char *uri = virConnectGetURI (conn);
  xmlURIPtr u;
  bool remote;

  if (uri == NULL)
    return 0;
  u = xmlParseURI (uri);
  if (u == NULL)
    return 0;
  remote = u->server && u->server[0] && strcmp (u->server, "localhost") != 0;
  xmlFreeURI (u);
  if (remote) {
    error_errno (h, ENOTSUP, "%s: backing up a running domain over a remote "
                 "libvirt connection (%s) is not supported", domname, uri);
    return -1;
  }
  return 0;
}

/* A value from libvirt's XML or the caller, escaped for an attribute
 * (malloc'd).
 */
static char *
xml_escape (const char *s)
{
  CLEANUP_XMLFREE xmlChar *e = xmlEncodeSpecialChars (NULL, BAD_CAST s);

  return e ? strdup ((char *) e) : NULL;
}

/* The disks libvirt exports: export name and bitmap meta context (NULL
 * for a full backup), from the job's XML: the names libvirt picked
 * (libvirt 9.0: exportname = target, exportbitmap = "backup-<target>").
 */
static int
job_exports (gk_h *h, struct backup_job *job, string_vector *exports,
             string_vector *bitmaps, const dom_disk_vector *disks)
{
  CLEANUP_FREE char *xml = virDomainBackupGetXMLDesc (job->dom, 0);
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  size_t i;

  if (xml == NULL) {
    libvirt_error (h, "%s: cannot read the backup job's XML", job->domname);
    return -1;
  }
  debug (h, "backup: %s: job XML: %s", job->domname, xml);
  if (xml_open (h, xml, "the backup job", &doc, &ctx) == -1)
    return -1;
  for (i = 0; i < disks->len; ++i) {
    const char *t = disks->ptr[i].target;
    CLEANUP_FREE char *expr = NULL, *bexpr = NULL, *b = NULL;
    char *e = NULL, *context = NULL;

    if (asprintf (&expr, "/domainbackup/disks/disk[@name='%s']/@exportname",
                  t) == -1 ||
        asprintf (&bexpr, "/domainbackup/disks/disk[@name='%s']"
                  "/@exportbitmap", t) == -1)
      goto oom;
    e = xml_get (ctx, NULL, expr);
    if (e == NULL)
      e = strdup (t);
    b = xml_get (ctx, NULL, bexpr);
    if (e == NULL || string_vector_append (exports, e) == -1) {
      free (e);
      goto oom;
    }
    if (b && asprintf (&context, "qemu:dirty-bitmap:%s", b) == -1)
      goto oom;
    if (string_vector_append (bitmaps, context) == -1) {
      free (context);
      goto oom;
    }
  }
  return 0;

 oom:
  perrorf (h, "backup");
  return -1;
}

/* The XML of the job and of its checkpoint (libvirt's formatbackup and
 * formatcheckpoint).  Every disk is listed: the others are left out.
 */
static int
job_xml (gk_h *h, struct backup_job *job, const dom_disk_vector *disks,
         const bool *incremental, char **backup_rtn, char **checkpoint_rtn)
{
  CLEANUP_FREE char *sock = xml_escape (job->socket);
  CLEANUP_FREE char *since = job->since ? xml_escape (job->since) : NULL;
  CLEANUP_FREE char *cpname =
    job->checkpoint ? xml_escape (job->checkpoint) : NULL;
  size_t blen, clen, i;
  FILE *b = NULL, *c = NULL;
  bool ok;

  *backup_rtn = *checkpoint_rtn = NULL;
  ok = sock && (since || !job->since) && (cpname || !job->checkpoint) &&
    (b = open_memstream (backup_rtn, &blen)) != NULL &&
    (c = open_memstream (checkpoint_rtn, &clen)) != NULL;
  if (ok) {
    fprintf (b, "<domainbackup mode='pull'>\n"
             "  <server transport='unix' socket='%s'/>\n  <disks>\n", sock);
    fprintf (c, "<domaincheckpoint>\n  <name>%s</name>\n  <disks>\n",
             cpname ? cpname : "");
  }
  for (i = 0; ok && i < disks->len; ++i) {
    const struct dom_disk *d = &disks->ptr[i];
    CLEANUP_FREE char *t = xml_escape (d->target);
    CLEANUP_FREE char *dir = xml_escape (job->dir);

    if (t == NULL || dir == NULL) {
      ok = false;
      break;
    }
    /* qcow2 scratch files: only the old data pushed out takes room. */
    fprintf (b, "    <disk name='%s' backup='yes' type='file'", t);
    if (incremental[i])
      fprintf (b, " backupmode='incremental' incremental='%s'", since);
    else
      fprintf (b, " backupmode='full'");
    fprintf (b, ">\n      <driver type='qcow2'/>\n"
             "      <scratch file='%s/%s.scratch'/>\n    </disk>\n", dir, t);
    fprintf (c, "    <disk name='%s' checkpoint='%s'/>\n", t,
             is_qcow2 (d) ? "bitmap" : "no");
  }
  if (ok) {
    fprintf (b, "  </disks>\n</domainbackup>\n");
    fprintf (c, "  </disks>\n</domaincheckpoint>\n");
  }
  if (b && (ferror (b) | fclose (b)))
    ok = false;
  if (c && (ferror (c) | fclose (c)))
    ok = false;
  if (!ok || !cpname) {
    free (*checkpoint_rtn);
    *checkpoint_rtn = NULL;
  }
  if (!ok) {
    free (*backup_rtn);
    *backup_rtn = NULL;
    perrorf (h, "backup XML");
    return -1;
  }
  return 0;
}

/* Which disks have a bitmap in checkpoint since (incremental[i]). */
static int
since_disks (gk_h *h, struct backup_job *job, const dom_disk_vector *disks,
             bool *incremental)
{
  virDomainCheckpointPtr cp;
  CLEANUP_FREE char *xml = NULL;
  size_t i;
  bool any = false;

  cp = virDomainCheckpointLookupByName (job->dom, job->since, 0);
  if (cp == NULL) {
    error_errno (h, ENOENT, "%s: no checkpoint %s (to read the changes "
                 "since)", job->domname, job->since);
    return -1;
  }
  xml = virDomainCheckpointGetXMLDesc (cp, VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN);
  virDomainCheckpointFree (cp);
  if (xml == NULL) {
    libvirt_error (h, "cannot read checkpoint %s", job->since);
    return -1;
  }
  for (i = 0; i < disks->len; ++i) {
    incremental[i] = is_qcow2 (&disks->ptr[i]) &&
      checkpoint_has_disk (h, xml, disks->ptr[i].target);
    any |= incremental[i];
  }
  if (!any) {
    error_errno (h, ENOENT, "%s: checkpoint %s has no bitmap of any "
                 "disk", job->domname, job->since);
    return -1;
  }
  return 0;
}

/* libvirt's own message is "domain moment NAME already exists". */
static int
checkpoint_absent (gk_h *h, struct backup_job *job)
{
  virDomainCheckpointPtr cp =
    virDomainCheckpointLookupByName (job->dom, job->checkpoint, 0);

  if (cp == NULL)
    return 0;
  virDomainCheckpointFree (cp);
  error_errno (h, EEXIST, "%s: checkpoint %s already exists", job->domname,
               job->checkpoint);
  return -1;
}

/* One job at a time per domain: libvirt would wait for the other one
 * for half a minute, then fail.  A pull-mode backup job outlives the
 * process that began it if that died.
 */
/* The job is a backup job a guestkit process began (its NBD socket is
 * in one of our private directories) and that process is gone: end the
 * job.  1 if it was ended, else 0.
 */
static int
end_stale_job (gk_h *h, virDomainPtr dom, const char *domname)
{
  CLEANUP_FREE char *xml = virDomainBackupGetXMLDesc (dom, 0);
  CLEANUP_FREE char *dir = NULL, *owner = NULL;
  xmlDocPtr doc;
  xmlChar *sock = NULL;
  char *slash, buf[32];
  virDomainJobInfo info;
  long pid = 0;
  FILE *fp;
  int i;

  if (xml == NULL)
    return 0;
  doc = xmlReadMemory (xml, strlen (xml), NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
  if (doc) {
    xmlXPathContextPtr ctx = xmlXPathNewContext (doc);
    xmlXPathObjectPtr obj =
      ctx ? xmlXPathEvalExpression (BAD_CAST
                                    "string(/domainbackup/server/@socket)",
                                    ctx) : NULL;

    if (obj && obj->type == XPATH_STRING && obj->stringval)
      sock = xmlStrdup (obj->stringval);
    xmlXPathFreeObject (obj);
    xmlXPathFreeContext (ctx);
    xmlFreeDoc (doc);
  }
  if (sock == NULL || strstr ((char *) sock, "/guestkit-backup-") == NULL ||
      (dir = strdup ((char *) sock)) == NULL) {
    xmlFree (sock);
    return 0;
  }
  xmlFree (sock);
  slash = strrchr (dir, '/');
  *slash = '\0';
  if (asprintf (&owner, "%s/owner", dir) == -1)
    return 0;
  fp = fopen (owner, "r");
  if (fp) {
    if (fgets (buf, sizeof buf, fp))
      pid = strtol (buf, NULL, 10);
    fclose (fp);
  }
  if (pid <= 0 || (kill (pid, 0) == 0 || errno != ESRCH))
    return 0;                   /* someone else's, or still running */
  warning (h, "%s: ending the backup job left by guestkit process %ld, "
           "which died", domname, pid);
  if (virDomainAbortJob (dom) == -1)
    return 0;
  for (i = 0; i < 300; ++i) {
    if (virDomainGetJobInfo (dom, &info) == -1 ||
        info.type == VIR_DOMAIN_JOB_NONE)
      break;
    usleep (100000);
  }
  remove_dir (h, dir);
  return info.type == VIR_DOMAIN_JOB_NONE;
}

static int
check_no_job (gk_h *h, virDomainPtr dom, const char *domname)
{
  virDomainJobInfo info;

  if (virDomainGetJobInfo (dom, &info) == 0 &&
      info.type != VIR_DOMAIN_JOB_NONE &&
      end_stale_job (h, dom, domname) == 0) {
    error_errno (h, EBUSY, "%s: the domain has a job running already (a "
                 "backup job left by a process that died?  'virsh "
                 "domjobabort %s' ends it)", domname, domname);
    return -1;
  }
  return 0;
}

/* GK_DISK_QUIESCE: is there a guest agent to freeze the filesystems? */
static int
check_agent (gk_h *h, xmlXPathContextPtr ctx, const char *domname)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj =
    xml_nodes (ctx, NULL, "/domain/devices/channel/target"
               "[@name='org.qemu.guest_agent.0']");
  CLEANUP_FREE char *state = NULL;

  if (xml_count (obj) == 0) {
    error_errno (h, ENOTSUP, "%s: cannot quiesce the guest: the domain has "
                 "no guest agent channel (org.qemu.guest_agent.0)", domname);
    return -1;
  }
  state = xml_get (ctx, obj->nodesetval->nodeTab[0], "./@state");
  if (state && strcmp (state, "connected") != 0) {
    error_errno (h, ENOTSUP, "%s: cannot quiesce the guest: its guest agent "
                 "is not connected (not running in the guest?)", domname);
    return -1;
  }
  return 0;
}

/* quiesce: freeze the guest's filesystems around the start, or fail;
 * try_quiesce: freeze them if the agent answers, else warn and go on
 * (crash-consistent).
 */
static bool
agent_connected (xmlXPathContextPtr ctx)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj =
    xml_nodes (ctx, NULL, "/domain/devices/channel/target"
               "[@name='org.qemu.guest_agent.0'][@state='connected']");

  return xml_count (obj) > 0;
}

static int
begin_job (gk_h *h, struct backup_job *job, const char *backup_xml,
           const char *checkpoint_xml, bool quiesce, bool try_quiesce)
{
  int r;

  if (quiesce || try_quiesce) {
    debug (h, "backup: %s: freezing the guest's filesystems", job->domname);
    if (virDomainFSFreeze (job->dom, NULL, 0, 0) == -1) {
      if (quiesce) {
        libvirt_error (h, "%s: cannot quiesce the guest (guest agent "
                       "fsfreeze)", job->domname);
        return -1;
      }
      warning (h, "%s: the guest agent did not freeze the filesystems "
               "(%s): the backup is crash-consistent", job->domname,
               virGetLastErrorMessage ());
      try_quiesce = false;
    }
    else
      quiesce = true;
  }
  debug (h, "backup: %s: virDomainBackupBegin %s%s", job->domname,
         backup_xml, checkpoint_xml ? checkpoint_xml : "");
  r = virDomainBackupBegin (job->dom, backup_xml, checkpoint_xml, 0);
  if (r == 0) {
    job->begun = true;
    /* Ours to delete again if the open fails from here on. */
    job->made_checkpoint = job->checkpoint != NULL;
  }
  else
    libvirt_error (h, "%s: cannot start the backup job", job->domname);
  /* Thaw whatever happened: a frozen guest hangs. */
  if (quiesce && virDomainFSThaw (job->dom, NULL, 0, 0) == -1) {
    if (r == 0)
      libvirt_error (h, "%s: cannot thaw the guest's filesystems (guest "
                     "agent fsthaw)", job->domname);
    else
      debug (h, "backup: %s: fsthaw failed too", job->domname);
    return -1;
  }
  return r;
}

static int
open_running (gk_h *h, virConnectPtr conn, virDomainPtr dom,
              const char *domname, xmlXPathContextPtr ctx,
              const dom_disk_vector *disks, const char *since,
              const char *new_checkpoint, unsigned flags, gk_disk **ret)
{
  struct backup_job *job;
  CLEANUP_FREE bool *incremental = calloc (disks->len, sizeof (bool));
  CLEANUP_FREE char *backup_xml = NULL, *checkpoint_xml = NULL;
  string_vector exports = empty_vector, bitmaps = empty_vector;
  const char *tmp = getenv ("TMPDIR");
  size_t i, nopen = 0;
  bool any_qcow2 = false;

  if (flags & GK_DISK_READWRITE) {
    error_errno (h, EBUSY, "%s: the domain is running: its disks can only "
                 "be read (through a backup job)", domname);
    return -1;
  }
  if (check_local (h, conn, domname) == -1 ||
      check_no_job (h, dom, domname) == -1 ||
      ((flags & GK_DISK_QUIESCE) && check_agent (h, ctx, domname) == -1))
    return -1;
  for (i = 0; i < disks->len; ++i)
    any_qcow2 |= is_qcow2 (&disks->ptr[i]);
  if (new_checkpoint && !any_qcow2) {
    error_errno (h, ENOTSUP, "%s: checkpoint %s: checkpoints need qcow2 "
                 "disks (%s is %s)", domname, new_checkpoint,
                 disks->ptr[0].target,
                 disks->ptr[0].format ? disks->ptr[0].format : "raw");
    return -1;
  }

  job = calloc (1, sizeof *job);
  if (job == NULL || incremental == NULL) {
    perrorf (h, "backup");
    free (job);
    return -1;
  }
  /* The job keeps the connection and the domain until its end. */
  virConnectRef (conn);
  virDomainRef (dom);
  job->conn = conn;
  job->dom = dom;
  job->refs = 1;                /* ours until the disks hold it */
  if ((job->domname = strdup (domname)) == NULL ||
      (since && (job->since = strdup (since)) == NULL) ||
      (new_checkpoint && (job->checkpoint = strdup (new_checkpoint)) == NULL)
      || asprintf (&job->dir, "%s/guestkit-backup-XXXXXX",
                   tmp && tmp[0] ? tmp : "/var/tmp") == -1) {
    job->dir = NULL;
    perrorf (h, "backup");
    goto err;
  }
  if (mkdtemp (job->dir) == NULL) {
    perrorf (h, "mkdtemp: %s", job->dir);
    free (job->dir);
    job->dir = NULL;
    goto err;
  }
  if (asprintf (&job->socket, "%s/nbd.sock", job->dir) == -1) {
    perrorf (h, "backup");
    goto err;
  }
  /* Who began the job: if this process dies, the next one ends it. */
  {
    CLEANUP_FREE char *owner = NULL;
    FILE *fp;

    if (asprintf (&owner, "%s/owner", job->dir) == -1 ||
        (fp = fopen (owner, "w")) == NULL) {
      perrorf (h, "backup: %s/owner", job->dir);
      goto err;
    }
    fprintf (fp, "%ld\n", (long) getpid ());
    if (fclose (fp) == EOF) {
      perrorf (h, "backup: %s", owner);
      goto err;
    }
  }
  if (give_dir_to_qemu (h, ctx, job->dir) == -1 ||
      (since && since_disks (h, job, disks, incremental) == -1) ||
      (new_checkpoint && checkpoint_absent (h, job) == -1) ||
      job_xml (h, job, disks, incremental, &backup_xml,
               &checkpoint_xml) == -1)
    goto err;
  /* A connected guest agent freezes the filesystems even unasked. */
  if (begin_job (h, job, backup_xml, checkpoint_xml,
                 flags & GK_DISK_QUIESCE,
                 !(flags & GK_DISK_QUIESCE) && agent_connected (ctx)) == -1)
    goto err;
  if (job_exports (h, job, &exports, &bitmaps, disks) == -1)
    goto err;

  for (i = 0; i < disks->len; ++i) {
    const struct dom_disk *d = &disks->ptr[i];
    struct gk_disk_source src = { 0 };
    struct job_disk *jd = calloc (1, sizeof *jd);
    CLEANUP_FREE char *source = describe_source (d);

    if (jd == NULL || source == NULL ||
        (jd->target = strdup (d->target)) == NULL ||
        (d->format && (jd->format = strdup (d->format)) == NULL)) {
      perrorf (h, "backup");
      if (jd)
        free (jd->target);
      free (jd);
      goto err;
    }
    jd->job = job;
    jd->bitmap = incremental[i];
    jd->qcow2 = is_qcow2 (d);
    if (gk_int_disk_open_nbd (h, NULL, job->socket, exports.ptr[i],
                              incremental[i] ? bitmaps.ptr[i] : NULL, 0,
                              &src) == -1) {
      free (jd->target);
      free (jd->format);
      free (jd);
      goto err;
    }
    jd->nbd = src.priv;
    src.ops = &job_disk_ops;
    src.priv = jd;
    job->refs++;
    /* On failure gk_int_disk_new closes the source (jd_close). */
    ret[i] = gk_int_disk_new (h, &src, d->target, source,
                              d->format ? d->format : "raw", 0);
    if (ret[i] == NULL)
      goto err;
    nopen++;
  }
  string_vector_free_all (&exports);
  string_vector_free_all (&bitmaps);
  job_unref (h, job);           /* the disks hold it now */
  return 0;

 err:
  string_vector_free_all (&exports);
  string_vector_free_all (&bitmaps);
  /* Closing the disks must not end the job: fail_job does, quietly. */
  for (i = 0; i < nopen; ++i)
    gk_disk_close (ret[i]);
  fail_job (h, job);
  return -1;
}

static int
disk_open_domain (gk_h *h, const char *name, const char *uri,
                  const char *since, const char *new_checkpoint,
                  unsigned flags, gk_disk ***disks_rtn, size_t *n_rtn)
{
  virConnectPtr conn;
  virDomainPtr dom;
  CLEANUP_FREE char *xml = NULL;
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  dom_disk_vector disks = empty_vector;
  gk_disk **ret = NULL;
  int state = 0, reason, r = -1;

  if ((since && gk_int_check_checkpoint_name (h, name, since) == -1) ||
      (new_checkpoint &&
       gk_int_check_checkpoint_name (h, name, new_checkpoint) == -1))
    return -1;
  conn = connect_uri (h, uri, 0);
  if (conn == NULL)
    return -1;
  dom = lookup_domain (h, conn, name);
  if (dom == NULL)
    goto out;
  if (virDomainGetState (dom, &state, &reason, 0) == -1) {
    libvirt_error (h, "cannot get the state of domain '%s'", name);
    goto out;
  }
  xml = virDomainGetXMLDesc (dom, 0);
  if (xml == NULL) {
    libvirt_error (h, "error reading libvirt XML of '%s'", name);
    goto out;
  }
  if (xml_open (h, xml, name, &doc, &ctx) == -1 ||
      parse_dom_disks (h, name, ctx, &disks) == -1)
    goto out;
  if (disks.len == 0) {
    error_errno (h, ENOENT, "%s: the libvirt domain has no disks", name);
    goto out;
  }
  ret = calloc (disks.len, sizeof *ret);
  if (ret == NULL) {
    perrorf (h, "gk_disk_open_domain");
    goto out;
  }
  /* Shut off: since and new_checkpoint are the caller's business, per
   * disk (qcow2 bitmaps).
   */
  if (state == VIR_DOMAIN_SHUTOFF)
    r = open_shutoff (h, conn, &disks, flags, ret);
  else
    r = open_running (h, conn, dom, name, ctx, &disks, since, new_checkpoint,
                      flags, ret);
  if (r == 0) {
    *disks_rtn = ret;
    *n_rtn = disks.len;
    ret = NULL;
  }
 out:
  free (ret);
  free_dom_disks (&disks);
  if (dom)
    virDomainFree (dom);
  if (conn)
    virConnectClose (conn);
  return r;
}

/* The module's one export (lib/modules.h). */
extern const struct gk_libvirt_module guestkit_module;
const struct gk_libvirt_module guestkit_module = {
  .hdr = GK_MODULE_HEADER (struct gk_libvirt_module, "domain"),
  .add_domain = add_domain,
  .list_domains = list_domains,
  .domains_using_path = domains_using_path,
  .get_domain_xml = get_domain_xml,
  .all_domain_xml = all_domain_xml,
  .domain_exists = domain_exists,
  .define_xml = define_xml,
  .undefine = undefine,
  .driver_type = driver_type,
  .disk_open_domain = disk_open_domain,
};
