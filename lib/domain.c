/* libguestkit: guests defined in libvirt.
 *
 * The domain is looked up with libvirt's C API (the domain module,
 * modules/domain.c, loaded on first use so that programs that never ask
 * libvirt never load it) and its XML parsed here with libxml2.  Every disk with media becomes a drive: file and block disks by
 * path, network disks as protocol + servers + export name, pool volumes
 * through libvirt's storage API.  The driver type is the format.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "internal.h"
#include "modules.h"

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


static const struct gk_libvirt_module *
libvirt_module (gk_h *h)
{
  return gk_int_module_get (h, "domain", sizeof (struct gk_libvirt_module));
}

int
gk_add_domain (gk_h *h, const char *name, const char *libvirt_uri,
               unsigned flags)
{
  const struct gk_libvirt_module *m;

  trace (h, "gk_add_domain \"%s\" uri=%s flags=%u", name,
         libvirt_uri ? libvirt_uri : "(default)", flags);
  if (flags & ~GK_DRIVE_READWRITE) {
    error_errno (h, EINVAL, "add_domain: unknown flags 0x%x", flags);
    return -1;
  }
  /* The appliance may exist unlaunched (autolaunch off). */
  if (h->appliance && gk_is_launched (h) == 1) {
    error_errno (h, EBUSY, "add_domain: drives cannot be added after the "
                 "appliance was launched");
    return -1;
  }
  if ((m = libvirt_module (h)) == NULL)
    return -1;
  return m->add_domain (h, name, libvirt_uri, flags);
}

int
gk_list_domains (gk_h *h, const char *libvirt_uri,
                 struct gk_domain **domains_rtn, size_t *n_rtn)
{
  const struct gk_libvirt_module *m;

  trace (h, "gk_list_domains uri=%s", libvirt_uri ? libvirt_uri : "(default)");
  if ((m = libvirt_module (h)) == NULL)
    return -1;
  return m->list_domains (h, libvirt_uri, domains_rtn, n_rtn);
}

/* The libvirt domains (read-only connection to libvirt's default URI)
 * with a disk on this path, or NULL with nothing set if libvirt cannot be
 * asked: a check for warnings, never a reason to fail.
 */
char **
gk_int_domains_using_path (gk_h *h, const char *path)
{
  const struct gk_libvirt_module *m;

  gk_push_error_handler (h, NULL, NULL);
  m = libvirt_module (h);
  gk_pop_error_handler (h);
  if (m == NULL) {
    debug (h, "no domain module to ask whether %s is in use: %s", path,
           gk_last_error (h));
    return NULL;
  }
  return m->domains_using_path (h, path);
}
