/* libguestkit: libvirt-compatible pool and volume XML (libxml2). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "internal.h"
#include "pool-xml.h"

/* Our type names and libvirt's. */
static const struct { const char *ours, *libvirt; } type_map[] = {
  { "dir", "dir" },
  { "lvm", "logical" },
  { "iscsi", "iscsi-direct" },
  { "iscsi", "iscsi" },
  { "rbd", "rbd" },
};

const char *
gk_int_pool_type (const char *libvirt_type)
{
  size_t i;

  for (i = 0; i < sizeof type_map / sizeof type_map[0]; ++i)
    if (strcmp (type_map[i].libvirt, libvirt_type) == 0 ||
        strcmp (type_map[i].ours, libvirt_type) == 0)
      return type_map[i].ours;
  return NULL;
}

static const char *
libvirt_type (const char *ours)
{
  size_t i;

  for (i = 0; i < sizeof type_map / sizeof type_map[0]; ++i)
    if (strcmp (type_map[i].ours, ours) == 0)
      return type_map[i].libvirt;
  return ours;
}

int
gk_int_check_name (gk_h *h, const char *what, const char *name)
{
  const unsigned char *p;

  if (name == NULL || name[0] == '\0') {
    error_errno (h, EINVAL, "%s name is empty", what);
    return -1;
  }
  if (strlen (name) > 255) {
    error_errno (h, EINVAL, "%s name is longer than 255 bytes", what);
    return -1;
  }
  if (name[0] == '-') {
    error_errno (h, EINVAL, "%s name ‘%s’ starts with ‘-’", what, name);
    return -1;
  }
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 ||
      strstr (name, "..") != NULL) {
    error_errno (h, EINVAL, "%s name ‘%s’ contains ‘..’", what, name);
    return -1;
  }
  if (strchr (name, '/')) {
    error_errno (h, EINVAL, "%s name ‘%s’ contains ‘/’", what, name);
    return -1;
  }
  for (p = (const unsigned char *) name; *p; ++p)
    if (*p < 0x20 || *p == 0x7f) {
      error_errno (h, EINVAL, "%s name contains a control character", what);
      return -1;
    }
  return 0;
}

int
gk_int_parse_size (gk_h *h, const char *value, const char *unit,
                   uint64_t *ret)
{
  static const struct { const char *name; uint64_t mult; } units[] = {
    { "", 1 }, { "b", 1 }, { "bytes", 1 },
    { "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1000 },
    { "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1000000 },
    { "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1000000000 },
    { "t", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1000000000000 },
    { "p", 1ULL << 50 }, { "pib", 1ULL << 50 }, { "pb", 1000000000000000 },
    { "e", 1ULL << 60 }, { "eib", 1ULL << 60 }, { "eb", 1000000000000000000 },
  };
  char *end;
  uint64_t v;
  size_t i;

  errno = 0;
  while (isspace ((unsigned char) *value))
    value++;
  if (!isdigit ((unsigned char) *value)) {
    error_errno (h, EINVAL, "‘%s’ is not a size", value);
    return -1;
  }
  v = strtoull (value, &end, 10);
  if (errno != 0) {
    error_errno (h, EINVAL, "‘%s’ is not a size", value);
    return -1;
  }
  while (isspace ((unsigned char) *end))
    end++;
  if (unit == NULL || *unit == '\0')
    unit = end;
  else if (*end != '\0') {
    error_errno (h, EINVAL, "‘%s’ is not a size", value);
    return -1;
  }
  for (i = 0; i < sizeof units / sizeof units[0]; ++i)
    if (strcasecmp (unit, units[i].name) == 0)
      break;
  if (i == sizeof units / sizeof units[0]) {
    error_errno (h, EINVAL, "unknown size unit ‘%s’", unit);
    return -1;
  }
  if (v > UINT64_MAX / units[i].mult) {
    error_errno (h, ERANGE, "size ‘%s%s’ is too large", value, unit);
    return -1;
  }
  *ret = v * units[i].mult;
  return 0;
}

void
gk_int_free_pool_def (struct pool_def *def)
{
  size_t i;

  if (def == NULL)
    return;
  free (def->type);
  free (def->name);
  free (def->uuid);
  free (def->target_path);
  free_string_list (def->source_devices);
  free (def->source_name);
  free (def->source_format);
  for (i = 0; i < def->nr_hosts; ++i)
    free (def->hosts[i].name);
  free (def->hosts);
  free (def->auth_type);
  free (def->auth_username);
  free (def->auth_secret_usage);
  free (def->auth_secret_uuid);
  free (def->initiator_iqn);
  free (def->thin_pool);
  free (def);
}

void
gk_int_free_vol_def (struct vol_def *vol)
{
  if (vol == NULL)
    return;
  free (vol->name);
  free (vol->format);
  free (vol->backing_path);
  free (vol->backing_format);
  free (vol);
}

/* Parse an XML document; errors name the document and libxml2's reason. */
static xmlDocPtr
read_xml (gk_h *h, const char *what, const char *xml)
{
  xmlDocPtr doc;

  doc = xmlReadMemory (xml, strlen (xml), NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
  if (doc == NULL) {
    const xmlError *e = xmlGetLastError ();
    const char *msg = e && e->message ? e->message : "malformed XML";
    size_t len = strcspn (msg, "\n");

    error_errno (h, EINVAL, "%s XML: %.*s (line %d)", what, (int) len, msg,
                 e ? e->line : 0);
  }
  return doc;
}

/* A malloc'd copy of the text selected by expr under node, or NULL. */
static char *
get (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  xmlXPathObjectPtr obj;
  char *ret = NULL;

  ctx->node = node;
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  if (obj && obj->type == XPATH_NODESET && obj->nodesetval &&
      obj->nodesetval->nodeNr > 0) {
    xmlChar *s = xmlNodeGetContent (obj->nodesetval->nodeTab[0]);

    if (s) {
      ret = strdup ((char *) s);
      xmlFree (s);
    }
  }
  xmlXPathFreeObject (obj);
  return ret;
}

static xmlXPathObjectPtr
nodes (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  ctx->node = node;
  return xmlXPathEvalExpression (BAD_CAST expr, ctx);
}

struct pool_def *
gk_int_parse_pool_xml (gk_h *h, const char *xml)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  CLEANUP_FREE char *type = NULL;
  xmlNodePtr root;
  xmlXPathObjectPtr obj;
  struct pool_def *def;
  int i, n;

  doc = read_xml (h, "pool", xml);
  if (doc == NULL)
    return NULL;
  root = xmlDocGetRootElement (doc);
  if (root == NULL || strcmp ((const char *) root->name, "pool") != 0) {
    error_errno (h, EINVAL, "pool XML: the root element must be <pool>, "
                 "not <%s>", root ? (const char *) root->name : "");
    return NULL;
  }
  ctx = xmlXPathNewContext (doc);
  def = calloc (1, sizeof *def);
  if (ctx == NULL || def == NULL ||
      xmlXPathRegisterNs (ctx, BAD_CAST "guestkit",
                          BAD_CAST GK_POOL_XML_NS) != 0) {
    perrorf (h, "pool XML");
    free (def);
    return NULL;
  }

  type = get (ctx, root, "./@type");
  if (type == NULL) {
    error_errno (h, EINVAL, "pool XML: <pool> has no type attribute");
    goto err;
  }
  if (gk_int_pool_type (type) == NULL) {
    error_errno (h, ENOTSUP, "pool XML: <pool type='%s'>: pool type not "
                 "supported (dir, logical, iscsi, iscsi-direct, rbd)", type);
    goto err;
  }
  def->type = strdup (gk_int_pool_type (type));
  def->name = get (ctx, root, "./name");
  if (def->name == NULL) {
    error_errno (h, EINVAL, "pool XML: missing <name> element");
    goto err;
  }
  if (gk_int_check_name (h, "pool", def->name) == -1)
    goto err;
  def->uuid = get (ctx, root, "./uuid");
  def->target_path = get (ctx, root, "./target/path");
  def->source_name = get (ctx, root, "./source/name");
  def->source_format = get (ctx, root, "./source/format/@type");
  def->auth_type = get (ctx, root, "./source/auth/@type");
  def->auth_username = get (ctx, root, "./source/auth/@username");
  def->auth_secret_usage = get (ctx, root, "./source/auth/secret/@usage");
  /* A libvirt secret by UUID is not a usage: kept apart, written back
   * as <secret uuid=...> (libvirt refuses both at once).
   */
  if (def->auth_secret_usage == NULL)
    def->auth_secret_uuid = get (ctx, root, "./source/auth/secret/@uuid");
  def->initiator_iqn = get (ctx, root, "./source/initiator/iqn/@name");
  def->thin_pool = get (ctx, root, "./source/guestkit:thinpool/@name");

  obj = nodes (ctx, root, "./source/device");
  n = obj && obj->nodesetval ? obj->nodesetval->nodeNr : 0;
  def->source_devices = calloc (n + 1, sizeof (char *));
  if (def->source_devices == NULL) {
    xmlXPathFreeObject (obj);
    goto oom;
  }
  for (i = 0; i < n; ++i) {
    def->source_devices[i] = get (ctx, obj->nodesetval->nodeTab[i], "./@path");
    if (def->source_devices[i] == NULL) {
      xmlXPathFreeObject (obj);
      error_errno (h, EINVAL, "pool XML: <device> without a path attribute");
      goto err;
    }
  }
  xmlXPathFreeObject (obj);

  obj = nodes (ctx, root, "./source/host");
  n = obj && obj->nodesetval ? obj->nodesetval->nodeNr : 0;
  def->hosts = calloc (n + 1, sizeof *def->hosts);
  if (def->hosts == NULL) {
    xmlXPathFreeObject (obj);
    goto oom;
  }
  for (i = 0; i < n; ++i) {
    CLEANUP_FREE char *port = get (ctx, obj->nodesetval->nodeTab[i], "./@port");
    struct pool_host *host = &def->hosts[def->nr_hosts];

    host->name = get (ctx, obj->nodesetval->nodeTab[i], "./@name");
    if (host->name == NULL) {
      xmlXPathFreeObject (obj);
      error_errno (h, EINVAL, "pool XML: <host> without a name attribute");
      goto err;
    }
    def->nr_hosts++;
    if (port) {
      char *end;
      long v = strtol (port, &end, 10);

      if (*end != '\0' || v <= 0 || v > 65535) {
        xmlXPathFreeObject (obj);
        error_errno (h, EINVAL, "pool XML: <host port='%s'>: not a port "
                     "number", port);
        goto err;
      }
      host->port = v;
    }
  }
  xmlXPathFreeObject (obj);

  if (def->type == NULL)
    goto oom;
  return def;

 oom:
  perrorf (h, "pool XML");
 err:
  gk_int_free_pool_def (def);
  return NULL;
}

static void
add_size (xmlNodePtr parent, const char *name, uint64_t bytes)
{
  char buf[32];
  xmlNodePtr n;

  snprintf (buf, sizeof buf, "%" PRIu64, bytes);
  n = xmlNewChild (parent, NULL, BAD_CAST name, BAD_CAST buf);
  xmlNewProp (n, BAD_CAST "unit", BAD_CAST "bytes");
}

static char *
dump (gk_h *h, xmlDocPtr doc)
{
  int len;
  char *ret;
  xmlNodePtr root = xmlDocGetRootElement (doc);
  xmlBufferPtr b = xmlBufferCreate ();

  if (b == NULL) {
    perrorf (h, "XML");
    return NULL;
  }
  /* No "<?xml ...?>" declaration: virsh prints none either. */
  len = xmlNodeDump (b, doc, root, 0, 1);
  if (len == -1) {
    xmlBufferFree (b);
    error (h, "XML: cannot format the document");
    return NULL;
  }
  if (asprintf (&ret, "%s\n", (const char *) xmlBufferContent (b)) == -1) {
    perrorf (h, "XML");
    ret = NULL;
  }
  xmlBufferFree (b);
  return ret;
}

char *
gk_int_format_pool_xml (gk_h *h, const struct pool_def *def,
                        const struct gk_pool_info *info)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNodePtr root, source, target, n;
  size_t i;

  if (doc == NULL) {
    perrorf (h, "pool XML");
    return NULL;
  }
  root = xmlNewNode (NULL, BAD_CAST "pool");
  xmlDocSetRootElement (doc, root);
  xmlNewProp (root, BAD_CAST "type", BAD_CAST libvirt_type (def->type));
  xmlNewTextChild (root, NULL, BAD_CAST "name", BAD_CAST def->name);
  if (def->uuid)
    xmlNewTextChild (root, NULL, BAD_CAST "uuid", BAD_CAST def->uuid);
  if (info) {
    add_size (root, "capacity", info->capacity);
    add_size (root, "allocation", info->allocation);
    add_size (root, "available", info->available);
  }
  source = xmlNewChild (root, NULL, BAD_CAST "source", NULL);
  for (i = 0; i < def->nr_hosts; ++i) {
    n = xmlNewChild (source, NULL, BAD_CAST "host", NULL);
    xmlNewProp (n, BAD_CAST "name", BAD_CAST def->hosts[i].name);
    if (def->hosts[i].port) {
      char port[16];

      snprintf (port, sizeof port, "%d", def->hosts[i].port);
      xmlNewProp (n, BAD_CAST "port", BAD_CAST port);
    }
  }
  for (i = 0; def->source_devices && def->source_devices[i]; ++i) {
    n = xmlNewChild (source, NULL, BAD_CAST "device", NULL);
    xmlNewProp (n, BAD_CAST "path", BAD_CAST def->source_devices[i]);
  }
  if (def->auth_type) {
    n = xmlNewChild (source, NULL, BAD_CAST "auth", NULL);
    xmlNewProp (n, BAD_CAST "type", BAD_CAST def->auth_type);
    if (def->auth_username)
      xmlNewProp (n, BAD_CAST "username", BAD_CAST def->auth_username);
    if (def->auth_secret_usage || def->auth_secret_uuid) {
      xmlNodePtr s = xmlNewChild (n, NULL, BAD_CAST "secret", NULL);

      if (def->auth_secret_usage)
        xmlNewProp (s, BAD_CAST "usage", BAD_CAST def->auth_secret_usage);
      else
        xmlNewProp (s, BAD_CAST "uuid", BAD_CAST def->auth_secret_uuid);
    }
  }
  /* libvirt refuses an iscsi-direct pool without an initiator IQN:
   * write the one the backend uses by default.
   */
  if (def->initiator_iqn || strcmp (def->type, "iscsi") == 0) {
    n = xmlNewChild (source, NULL, BAD_CAST "initiator", NULL);
    n = xmlNewChild (n, NULL, BAD_CAST "iqn", NULL);
    xmlNewProp (n, BAD_CAST "name", BAD_CAST (def->initiator_iqn
                                              ? def->initiator_iqn
                                              : GK_ISCSI_DEFAULT_INITIATOR));
  }
  if (def->source_name)
    xmlNewTextChild (source, NULL, BAD_CAST "name", BAD_CAST def->source_name);
  if (def->source_format) {
    n = xmlNewChild (source, NULL, BAD_CAST "format", NULL);
    xmlNewProp (n, BAD_CAST "type", BAD_CAST def->source_format);
  }
  if (def->thin_pool) {
    n = xmlNewChild (source, NULL, BAD_CAST "thinpool", NULL);
    xmlSetNs (n, xmlNewNs (n, BAD_CAST GK_POOL_XML_NS, BAD_CAST "guestkit"));
    xmlNewProp (n, BAD_CAST "name", BAD_CAST def->thin_pool);
  }
  /* libvirt's schema has no <target> for iscsi-direct and rbd (a libvirt
   * "iscsi" pool read here may have one): virsh would refuse it.
   */
  if (def->target_path && strcmp (def->type, "iscsi") != 0 &&
      strcmp (def->type, "rbd") != 0) {
    target = xmlNewChild (root, NULL, BAD_CAST "target", NULL);
    xmlNewTextChild (target, NULL, BAD_CAST "path", BAD_CAST def->target_path);
  }
  return dump (h, doc);
}

struct vol_def *
gk_int_parse_vol_xml (gk_h *h, const char *xml)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
  CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr ctx = NULL;
  CLEANUP_FREE char *cap = NULL, *cap_unit = NULL;
  CLEANUP_FREE char *alloc = NULL, *alloc_unit = NULL;
  xmlNodePtr root;
  struct vol_def *vol;

  doc = read_xml (h, "volume", xml);
  if (doc == NULL)
    return NULL;
  root = xmlDocGetRootElement (doc);
  if (root == NULL || strcmp ((const char *) root->name, "volume") != 0) {
    error_errno (h, EINVAL, "volume XML: the root element must be "
                 "<volume>, not <%s>", root ? (const char *) root->name : "");
    return NULL;
  }
  ctx = xmlXPathNewContext (doc);
  vol = calloc (1, sizeof *vol);
  if (ctx == NULL || vol == NULL) {
    perrorf (h, "volume XML");
    free (vol);
    return NULL;
  }
  vol->name = get (ctx, root, "./name");
  if (vol->name == NULL) {
    error_errno (h, EINVAL, "volume XML: missing <name> element");
    goto err;
  }
  if (gk_int_check_name (h, "volume", vol->name) == -1)
    goto err;
  cap = get (ctx, root, "./capacity");
  cap_unit = get (ctx, root, "./capacity/@unit");
  if (cap == NULL) {
    error_errno (h, EINVAL, "volume XML: missing <capacity> element");
    goto err;
  }
  if (gk_int_parse_size (h, cap, cap_unit, &vol->capacity) == -1)
    goto err;
  alloc = get (ctx, root, "./allocation");
  alloc_unit = get (ctx, root, "./allocation/@unit");
  if (alloc) {
    if (gk_int_parse_size (h, alloc, alloc_unit, &vol->allocation) == -1)
      goto err;
    vol->has_allocation = true;
  }
  vol->format = get (ctx, root, "./target/format/@type");
  vol->backing_path = get (ctx, root, "./backingStore/path");
  vol->backing_format = get (ctx, root, "./backingStore/format/@type");
  return vol;

 err:
  gk_int_free_vol_def (vol);
  return NULL;
}

/* <volume> as virsh vol-dumpxml prints it, for a volume's state. */
char *
gk_int_format_vol_xml (gk_h *h, const struct vol_state *st,
                       const char *pool_type)
{
  CLEANUP_XMLFREEDOC xmlDocPtr doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNodePtr root, target, n;
  bool block = strcmp (pool_type, "lvm") == 0;
  bool network = strcmp (pool_type, "rbd") == 0 ||
    strcmp (pool_type, "iscsi") == 0;

  if (doc == NULL) {
    perrorf (h, "volume XML");
    return NULL;
  }
  root = xmlNewNode (NULL, BAD_CAST "volume");
  xmlDocSetRootElement (doc, root);
  xmlNewProp (root, BAD_CAST "type",
              BAD_CAST (block ? "block" : network ? "network" : "file"));
  xmlNewTextChild (root, NULL, BAD_CAST "name", BAD_CAST st->name);
  xmlNewTextChild (root, NULL, BAD_CAST "key", BAD_CAST st->path);
  add_size (root, "capacity", st->capacity);
  add_size (root, "allocation", st->allocation);
  target = xmlNewChild (root, NULL, BAD_CAST "target", NULL);
  xmlNewTextChild (target, NULL, BAD_CAST "path", BAD_CAST st->path);
  n = xmlNewChild (target, NULL, BAD_CAST "format", NULL);
  xmlNewProp (n, BAD_CAST "type", BAD_CAST (st->format ? st->format : "raw"));
  if (st->backing) {
    xmlNodePtr b = xmlNewChild (root, NULL, BAD_CAST "backingStore", NULL);

    xmlNewTextChild (b, NULL, BAD_CAST "path", BAD_CAST st->backing);
    if (st->backing_format) {
      n = xmlNewChild (b, NULL, BAD_CAST "format", NULL);
      xmlNewProp (n, BAD_CAST "type", BAD_CAST st->backing_format);
    }
  }
  return dump (h, doc);
}
