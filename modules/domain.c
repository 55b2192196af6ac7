/* guestkit's libvirt module (domain.so): guests defined in libvirt.
 *
 * This is the only file that includes <libvirt/libvirt.h>.  It is a module
 * loaded on first use (lib/modules.h), so that programs that never ask
 * libvirt never load it; lib/domain.c holds the public functions and the
 * parsing of domain XML (libxml2 only), and forwards here.
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

#include "internal.h"
#include "modules.h"

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
};
