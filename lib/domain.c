/* libguestkit: guests defined in libvirt.
 *
 * The domain is looked up with libvirt's C API and its XML parsed with
 * libxml2.  Every disk with media becomes a drive: file and block disks by
 * path, network disks as protocol + servers + export name, pool volumes
 * through libvirt's storage API.  The driver type is the format.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "internal.h"

/* libvirt prints every error to stderr unless told otherwise; the message
 * is copied into the handle's error instead, so silence that printing.
 */
static void
ignore_libvirt_error (void *opaque, virErrorPtr err)
{
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
  conn = virConnectOpenAuth (uri, virConnectAuthPtrDefault, flags);
  if (conn == NULL)
    libvirt_error (h, "could not connect to libvirt%s", "");
  return conn;
}

/* Text of an attribute found by XPath relative to node, or NULL. */
static char *
xpath_string (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj = NULL;

  ctx->node = node;
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  if (obj == NULL || obj->type != XPATH_NODESET ||
      obj->nodesetval == NULL || obj->nodesetval->nodeNr == 0)
    return NULL;
  return (char *) xmlNodeGetContent (obj->nodesetval->nodeTab[0]);
}

/* How many nodes does expr select relative to node? */
static int
count_nodes (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr obj = NULL;

  ctx->node = node;
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  if (obj == NULL || obj->type != XPATH_NODESET || obj->nodesetval == NULL)
    return 0;
  return obj->nodesetval->nodeNr;
}

/* libxml2 strings must be freed with xmlFree; copy into malloc'd ones. */
static char *
xpath_strdup (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  CLEANUP_XMLFREE xmlChar *s = (xmlChar *) xpath_string (ctx, node, expr);

  return s ? strdup ((char *) s) : NULL;
}

/* <source protocol=... name=...><host name= port= transport= socket=/> */
static int
network_disk (gk_h *h, xmlXPathContextPtr ctx, xmlNodePtr disk,
              struct drive *drv)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr hosts = NULL;
  int i, n;

  drv->protocol = xpath_strdup (ctx, disk, "./source/@protocol");
  drv->path = xpath_strdup (ctx, disk, "./source/@name");
  if (drv->protocol == NULL) {
    error_errno (h, EINVAL, "libvirt XML: <disk type='network'> without "
                 "a <source protocol=...> attribute");
    return -1;
  }
  if (drv->path == NULL && (drv->path = strdup ("")) == NULL)
    goto oom;

  ctx->node = disk;
  hosts = xmlXPathEvalExpression (BAD_CAST "./source/host", ctx);
  n = hosts && hosts->nodesetval ? hosts->nodesetval->nodeNr : 0;
  if (n == 0)
    return 0;
  drv->servers = calloc (n + 1, sizeof (char *));
  if (drv->servers == NULL)
    goto oom;
  for (i = 0; i < n; ++i) {
    xmlNodePtr host = hosts->nodesetval->nodeTab[i];
    CLEANUP_FREE char *name = xpath_strdup (ctx, host, "./@name");
    CLEANUP_FREE char *port = xpath_strdup (ctx, host, "./@port");
    CLEANUP_FREE char *transport = xpath_strdup (ctx, host, "./@transport");
    CLEANUP_FREE char *sock = xpath_strdup (ctx, host, "./@socket");
    int r;

    if (transport && strcmp (transport, "unix") == 0 && sock)
      r = asprintf (&drv->servers[i], "unix:%s", sock);
    else if (name && port)
      r = asprintf (&drv->servers[i], "%s:%s", name, port);
    else
      r = asprintf (&drv->servers[i], "%s", name ? name : "localhost");
    if (r == -1)
      goto oom;
  }
  return 0;

 oom:
  perrorf (h, "libvirt XML");
  return -1;
}

int
gk_int_drives_from_domain_xml (gk_h *h, const char *xml, bool readonly,
                               drive_vector *drives)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr disks = NULL;
  int i, n, added = 0;

  doc = xmlReadMemory (xml, strlen (xml), NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
  if (doc == NULL) {
    const xmlError *e = xmlGetLastError ();

    error_errno (h, EINVAL, "libvirt XML: cannot parse the domain XML%s%s",
                 e && e->message ? ": " : "",
                 e && e->message ? e->message : "");
    /* libxml2 messages end with a newline. */
    if (h->last_error) {
      size_t len = strlen (h->last_error);
      if (len > 0 && h->last_error[len-1] == '\n')
        h->last_error[len-1] = '\0';
    }
    return -1;
  }
  ctx = xmlXPathNewContext (doc);
  if (ctx == NULL) {
    perrorf (h, "xmlXPathNewContext");
    return -1;
  }
  disks = xmlXPathEvalExpression (BAD_CAST "/domain/devices/disk", ctx);
  if (disks == NULL) {
    error_errno (h, EINVAL, "libvirt XML: no /domain/devices/disk");
    return -1;
  }
  n = disks->nodesetval ? disks->nodesetval->nodeNr : 0;
  for (i = 0; i < n; ++i) {
    xmlNodePtr disk = disks->nodesetval->nodeTab[i];
    CLEANUP_FREE char *type = xpath_strdup (ctx, disk, "./@type");
    struct drive drv = { .readonly = readonly };

    /* No source: an empty cdrom or floppy drive. */
    if (count_nodes (ctx, disk, "./source") == 0) {
      debug (h, "libvirt XML: skipping disk %d: no <source> (no media)", i);
      continue;
    }
    if (type == NULL)
      type = strdup ("file");
    if (type == NULL) {
      perrorf (h, "libvirt XML");
      return -1;
    }
    if (strcmp (type, "file") == 0) {
      drv.path = xpath_strdup (ctx, disk, "./source/@file");
      drv.protocol = strdup ("file");
    }
    else if (strcmp (type, "block") == 0) {
      drv.path = xpath_strdup (ctx, disk, "./source/@dev");
      drv.protocol = strdup ("file");
    }
    else if (strcmp (type, "network") == 0) {
      if (network_disk (h, ctx, disk, &drv) == -1) {
        gk_int_free_drive (&drv);
        return -1;
      }
    }
    else if (strcmp (type, "volume") == 0) {
      CLEANUP_FREE char *pool = xpath_strdup (ctx, disk, "./source/@pool");
      CLEANUP_FREE char *vol = xpath_strdup (ctx, disk, "./source/@volume");

      if (pool && vol) {
        if (asprintf (&drv.path, "%s/%s", pool, vol) == -1)
          drv.path = NULL;
        drv.protocol = strdup ("volume");
      }
    }
    else {
      debug (h, "libvirt XML: skipping <disk type='%s'>", type);
      continue;
    }
    if (drv.path == NULL) {
      debug (h, "libvirt XML: skipping disk %d: <source> names no file", i);
      gk_int_free_drive (&drv);
      continue;
    }
    if (drv.protocol == NULL) {
      perrorf (h, "libvirt XML");
      gk_int_free_drive (&drv);
      return -1;
    }
    drv.format = xpath_strdup (ctx, disk, "./driver/@type");
    if (count_nodes (ctx, disk, "./readonly") > 0)
      drv.readonly = true;
    if (drive_vector_append (drives, drv) == -1) {
      perrorf (h, "libvirt XML");
      gk_int_free_drive (&drv);
      return -1;
    }
    added++;
  }
  return added;
}

/* A <disk type='volume'>: ask libvirt where the volume is. */
static int
resolve_volume (gk_h *h, virConnectPtr conn, struct drive *drv)
{
  CLEANUP_FREE char *pool_name = strdup (drv->path);
  char *vol_name, *path;
  virStoragePoolPtr pool;
  virStorageVolPtr vol;

  if (pool_name == NULL) {
    perrorf (h, "strdup");
    return -1;
  }
  vol_name = strchr (pool_name, '/');
  *vol_name++ = '\0';
  pool = virStoragePoolLookupByName (conn, pool_name);
  if (pool == NULL) {
    libvirt_error (h, "no libvirt storage pool called '%s'", pool_name);
    return -1;
  }
  vol = virStorageVolLookupByName (pool, vol_name);
  virStoragePoolFree (pool);
  if (vol == NULL) {
    libvirt_error (h, "no volume called '%s' in the libvirt storage pool",
                   vol_name);
    return -1;
  }
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

int
gk_add_domain (gk_h *h, const char *name, const char *libvirt_uri,
               unsigned flags)
{
  virConnectPtr conn;
  virDomainPtr dom;
  CLEANUP_FREE char *xml = NULL;
  drive_vector drives = empty_vector;
  bool readonly = !(flags & GK_DRIVE_READWRITE);
  int n = -1, state = 0, reason;
  size_t i;

  trace (h, "gk_add_domain \"%s\" uri=%s flags=%u", name,
         libvirt_uri ? libvirt_uri : "(default)", flags);
  if (flags & ~GK_DRIVE_READWRITE) {
    error_errno (h, EINVAL, "add_domain: unknown flags 0x%x", flags);
    return -1;
  }
  if (h->appliance) {
    error_errno (h, EBUSY, "add_domain: drives cannot be added after the "
                 "appliance was launched");
    return -1;
  }

  conn = connect_uri (h, libvirt_uri, 0);
  if (conn == NULL)
    return -1;

  /* A UUID first, then a name, as virt-df and guestfish do. */
  dom = virDomainLookupByUUIDString (conn, name);
  if (dom == NULL)
    dom = virDomainLookupByName (conn, name);
  if (dom == NULL) {
    libvirt_error (h, "no libvirt domain called '%s'", name);
    goto out;
  }

  /* Writing to the disks of a running guest corrupts them. */
  if (!readonly && virDomainGetState (dom, &state, &reason, 0) == 0 &&
      state != VIR_DOMAIN_SHUTOFF) {
    error_errno (h, EBUSY, "domain is a live virtual machine. "
                 "Writing to the disks of a running virtual machine can "
                 "cause disk corruption. Use read-only access.");
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
      perrorf (h, "access: %s", drv->path);
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

int
gk_list_domains (gk_h *h, const char *libvirt_uri,
                 struct gk_domain **domains_rtn, size_t *n_rtn)
{
  virConnectPtr conn;
  virDomainPtr *doms = NULL;
  struct gk_domain *ret;
  int i, n;
  size_t nret = 0;

  trace (h, "gk_list_domains uri=%s", libvirt_uri ? libvirt_uri : "(default)");
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

void
gk_free_domains (struct gk_domain *domains, size_t n)
{
  size_t i;

  if (domains == NULL)
    return;
  for (i = 0; i < n; ++i) {
    free (domains[i].name);
    free (domains[i].uuid);
  }
  free (domains);
}

/* The libvirt domains (read-only connection to libvirt's default URI)
 * with a disk on this path, or NULL with nothing set if libvirt cannot be
 * asked: a check for warnings, never a reason to fail.
 */
char **
gk_int_domains_using_path (gk_h *h, const char *path)
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
