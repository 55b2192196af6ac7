/* libguestkit: clone a libvirt domain (virt-clone).
 *
 * gk_clone_domain_xml plans a clone and returns the new domain's XML;
 * gk_clone_domain plans it and carries it out.  The plan (struct plan)
 * is the original XML, parsed with libxml2 and edited in place (never by
 * string surgery), plus one entry per disk saying what happens to it.
 *
 * Carrying it out is a transaction:
 *   1. every copy is made under a temporary name in its target place
 *      (GK_TMP_PREFIX: ".gk-tmp-NAME" next to the file, or a volume of
 *      that name in the pool);
 *   2. only when all copies succeeded are they renamed into place (a
 *      file they replace is first moved aside, so it can come back);
 *   3. --replace: the old domain is undefined only now;
 *   4. the new domain is defined last.
 * Any failure, gk_user_cancel (SIGINT, SIGTERM in the tools) included,
 * undoes every step done so far, in reverse.  A SIGKILL leaves only
 * temporary names, which "guestkit pool-refresh" reports and
 * "guestkit pool-clean" removes.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "internal.h"
#include "modules.h"
#include "clone.h"
#include "pool-internal.h"
#include "pool-xml.h"
#include "pool-backend.h"

/* What happens to one disk. */
enum disk_action {
  DISK_SHARE,                   /* the clone uses the same storage */
  DISK_COPY,                    /* copied (or linked) */
  DISK_PRESERVE,                /* --preserve-data: a path given, no copy */
};

struct clone_disk {
  xmlNodePtr node;              /* <disk> */
  char *target;                 /* vda */
  char *type;                   /* file, block, network, volume */
  char *orig;                   /* path, network name "pool/image", or
                                   "pool/volume" for type='volume' */
  char *format;                 /* <driver type>, or NULL */
  enum disk_action action;
  /* A guestkit pool volume source (or NULL: a plain file or device). */
  char *src_pool, *src_vol;
  /* The destination: a plain path, or a pool volume. */
  char *new_path;               /* what goes into the XML */
  char *dst_pool, *dst_vol;
  bool into_existing;           /* iscsi: a pre-created LUN */
  bool dst_is_dir;              /* the destination pool is a dir pool */
  /* The transaction's state. */
  char *tmp;                    /* temporary file or volume name */
  char *aside;                  /* a replaced file, moved aside */
  bool made, committed;
  uint64_t need;                /* bytes the copy will allocate */
};

struct plan {
  gk_h *h;
  const struct gk_clone_params *p;
  const struct gk_libvirt_module *lv;
  xmlDocPtr doc;
  xmlXPathContextPtr ctx;
  char *orig_name, *orig_uuid;
  char *new_name, *new_uuid;
  char **all_xml;               /* every defined domain, for collisions */
  struct clone_disk *disks;
  size_t n_disks;
  string_vector chosen;         /* paths chosen in this clone */
  /* NVRAM. */
  char *nvram_orig, *nvram_new, *nvram_tmp, *nvram_aside;
  bool nvram_copy, nvram_made, nvram_committed;
  /* TPM state (swtpm keeps it per domain UUID). */
  char *tpm_orig, *tpm_new, *tpm_tmp;
  bool tpm_committed;
  /* --replace: the XML of the domain replaced, to restore it. */
  char *replaced_xml;
  bool replaced;
};

#define TMP_PREFIX GK_TMP_PREFIX

static bool
cancelled (gk_h *h)
{
  return h->cancelled != 0;
}

/* ---------- XML helpers ---------- */

static xmlXPathObjectPtr
eval (struct plan *pl, xmlNodePtr node, const char *expr)
{
  pl->ctx->node = node ? node : xmlDocGetRootElement (pl->doc);
  return xmlXPathEvalExpression (BAD_CAST expr, pl->ctx);
}

static int
nodes (xmlXPathObjectPtr obj)
{
  return obj && obj->type == XPATH_NODESET && obj->nodesetval
    ? obj->nodesetval->nodeNr : 0;
}

static xmlNodePtr
first (struct plan *pl, xmlNodePtr node, const char *expr)
{
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr o = eval (pl, node, expr);

  return nodes (o) ? o->nodesetval->nodeTab[0] : NULL;
}

/* The text of the first match (attribute or element), malloc'd. */
static char *
text (struct plan *pl, xmlNodePtr node, const char *expr)
{
  xmlNodePtr n = first (pl, node, expr);
  xmlChar *s;
  char *ret;

  if (n == NULL)
    return NULL;
  s = xmlNodeGetContent (n);
  ret = s ? strdup ((char *) s) : NULL;
  xmlFree (s);
  return ret;
}

static void
set_text (xmlNodePtr n, const char *value)
{
  if (n->type == XML_ATTRIBUTE_NODE)
    xmlSetProp (n->parent, n->name, BAD_CAST value);
  else
    xmlNodeSetContent (n, BAD_CAST value);
}

static void
remove_node (xmlNodePtr n)
{
  if (n->type == XML_ATTRIBUTE_NODE)
    xmlRemoveProp ((xmlAttrPtr) n);
  else {
    /* The indentation before the element goes with it. */
    xmlNodePtr prev = n->prev;
    if (prev && xmlNodeIsText (prev) && xmlIsBlankNode (prev)) {
      xmlUnlinkNode (prev);
      xmlFreeNode (prev);
    }
    xmlUnlinkNode (n);
    xmlFreeNode (n);
  }
}

static bool
in_list (const char *const *list, const char *s)
{
  for (; list && *list; ++list)
    if (s && strcmp (*list, s) == 0)
      return true;
  return false;
}

/* ---------- random identities ---------- */

static int
random_bytes (gk_h *h, void *buf, size_t n)
{
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t r;

  if (fd == -1) {
    perrorf (h, "/dev/urandom");
    return -1;
  }
  r = read (fd, buf, n);
  close (fd);
  if (r != (ssize_t) n) {
    perrorf (h, "/dev/urandom");
    return -1;
  }
  return 0;
}

static bool
valid_uuid (const char *s)
{
  size_t i, n = 0;

  for (i = 0; s[i]; ++i) {
    if (s[i] == '-')
      continue;
    if (!isxdigit ((unsigned char) s[i]))
      return false;
    n++;
  }
  return n == 32;
}

/* "52:54:00:12:34:56": six hex pairs, unicast. */
static bool
valid_mac (const char *s)
{
  unsigned v[6];
  char end;

  if (strlen (s) != 17 ||
      sscanf (s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
              &v[4], &v[5], &end) != 6)
    return false;
  for (size_t i = 0; i < 17; ++i)
    if ((i % 3 == 2) != (s[i] == ':') ||
        (i % 3 != 2 && !isxdigit ((unsigned char) s[i])))
      return false;
  return (v[0] & 1) == 0;
}

/* Is mac on an interface of a defined domain, or already given to an
 * earlier NIC of this clone?
 */
static bool
mac_in_use (struct plan *pl, const char *mac)
{
  size_t i;
  int j;

  for (i = 0; pl->all_xml && pl->all_xml[i]; ++i) {
    CLEANUP_XMLFREEDOC xmlDocPtr d =
      xmlReadMemory (pl->all_xml[i], strlen (pl->all_xml[i]), NULL, NULL,
                     XML_PARSE_NONET | XML_PARSE_NOERROR |
                     XML_PARSE_NOWARNING);
    CLEANUP_XMLXPATHFREECONTEXT xmlXPathContextPtr c =
      d ? xmlXPathNewContext (d) : NULL;
    CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr o =
      c ? xmlXPathEvalExpression
      (BAD_CAST "/domain/devices/interface/mac/@address", c) : NULL;

    for (j = 0; j < nodes (o); ++j) {
      xmlChar *a = xmlNodeGetContent (o->nodesetval->nodeTab[j]);
      bool same = a && strcasecmp ((char *) a, mac) == 0;
      xmlFree (a);
      if (same)
        return true;
    }
  }
  {
    CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr o =
      eval (pl, NULL, "/domain/devices/interface/mac/@address");
    for (j = 0; j < nodes (o); ++j) {
      xmlChar *a = xmlNodeGetContent (o->nodesetval->nodeTab[j]);
      /* (The mark is on the <mac> element, the attribute's parent.) */
      bool same = a && strcasecmp ((char *) a, mac) == 0 &&
        o->nodesetval->nodeTab[j]->parent->_private == (void *) 1;
      xmlFree (a);
      if (same)
        return true;
    }
  }
  return false;
}

static char *
random_mac (struct plan *pl, bool qemu)
{
  unsigned char b[3];
  char *mac;
  int i;

  for (i = 0; i < 256; ++i) {
    if (random_bytes (pl->h, b, sizeof b) == -1)
      return NULL;
    if (asprintf (&mac, "%s:%02x:%02x:%02x", qemu ? "52:54:00" : "00:16:3e",
                  b[0], b[1], b[2]) == -1) {
      perrorf (pl->h, "asprintf");
      return NULL;
    }
    if (!mac_in_use (pl, mac))
      return mac;
    free (mac);
  }
  error_errno (pl->h, EEXIST, "could not find an unused MAC address in "
               "256 tries");
  return NULL;
}

/* ---------- checks ---------- */

/* A failed check, unless it is off ("--check NAME=off"). */
static int
check_fail (struct plan *pl, unsigned check, const char *checkname,
            int errnum, const char *msg)
{
  if (pl->p->checks & check) {
    error_errno (pl->h, errnum, "%s (Use --check %s=off or --check "
                 "all=off to override)", msg, checkname);
    return -1;
  }
  warning (pl->h, "%s", msg);
  return 0;
}

/* Domains (other than the original) with a disk on path: "['a', 'b']"
 * as virt-manager prints them, or NULL if none.
 */
static char *
path_users (struct plan *pl, const char *path)
{
  string_vector users = empty_vector;
  char *ret = NULL;
  size_t i, j, len = 3;

  for (i = 0; pl->all_xml && pl->all_xml[i]; ++i) {
    drive_vector drives = empty_vector;
    bool used = false;

    gk_push_error_handler (pl->h, NULL, NULL);
    gk_int_drives_from_domain_xml (pl->h, pl->all_xml[i], true, &drives);
    gk_pop_error_handler (pl->h);
    for (j = 0; j < drives.len; ++j) {
      if (drives.ptr[j].path && strcmp (drives.ptr[j].path, path) == 0)
        used = true;
      gk_int_free_drive (&drives.ptr[j]);
    }
    drive_vector_reset (&drives);
    if (used) {
      CLEANUP_XMLFREEDOC xmlDocPtr d =
        xmlReadMemory (pl->all_xml[i], strlen (pl->all_xml[i]), NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
      xmlNodePtr root = d ? xmlDocGetRootElement (d) : NULL;
      xmlNodePtr c;

      for (c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            xmlStrcmp (c->name, BAD_CAST "name") == 0) {
          xmlChar *n = xmlNodeGetContent (c);
          if (n) {
            string_vector_append (&users, strdup ((char *) n));
            len += strlen ((char *) n) + 4;
          }
          xmlFree (n);
        }
    }
  }
  if (users.len > 0 && (ret = malloc (len + 1)) != NULL) {
    strcpy (ret, "[");
    for (i = 0; i < users.len; ++i) {
      if (users.ptr[i] == NULL)
        continue;
      strcat (ret, i ? ", '" : "'");
      strcat (ret, users.ptr[i]);
      strcat (ret, "'");
    }
    strcat (ret, "]");
  }
  string_vector_free_all (&users);
  return ret;
}

/* ---------- pools ---------- */

/* The guestkit pool volume whose path (or, for network disks, the name
 * after the host in its URI) is this disk's source, if any.
 */
static int
find_volume (struct plan *pl, struct clone_disk *d)
{
  gk_h *h = pl->h;
  CLEANUP_FREE_STRING_LIST char **pools = NULL;
  CLEANUP_FREE char *real = NULL;
  size_t i, j;

  if (strcmp (d->type, "volume") == 0) {
    /* <source pool='P' volume='V'>: a guestkit pool of that name. */
    char *slash = strchr (d->orig, '/');
    if (slash == NULL ||
        (d->src_pool = strndup (d->orig, slash - d->orig)) == NULL ||
        (d->src_vol = strdup (slash + 1)) == NULL) {
      error_errno (h, EINVAL, "disk %s: bad volume source", d->target);
      return -1;
    }
    return 0;
  }
  if (d->orig[0] == '/')
    real = realpath (d->orig, NULL);

  gk_push_error_handler (h, NULL, NULL);
  pools = gk_pool_list (h);
  gk_pop_error_handler (h);
  for (i = 0; pools && pools[i]; ++i) {
    CLEANUP_FREE_STRING_LIST char **vols = NULL;

    const struct pool_backend *b;
    struct pool_def *def;
    bool network_pool;

    if (!gk_int_pool_active (h, pools[i]))
      continue;
    /* Only pools that can hold such a disk: never ask a Ceph or iSCSI
     * server about a local file (it may be slow, or down).
     */
    gk_push_error_handler (h, NULL, NULL);
    def = gk_int_load_pool (h, pools[i], &b);
    gk_pop_error_handler (h);
    if (def == NULL)
      continue;
    network_pool = strcmp (def->type, "rbd") == 0 ||
      strcmp (def->type, "iscsi") == 0;
    gk_int_free_pool_def (def);
    if (network_pool != (strcmp (d->type, "network") == 0))
      continue;
    gk_push_error_handler (h, NULL, NULL);
    vols = gk_vol_list (h, pools[i]);
    gk_pop_error_handler (h);
    for (j = 0; vols && vols[j]; ++j) {
      CLEANUP_FREE char *path = NULL;
      const char *cmp = NULL;
      bool match;

      gk_push_error_handler (h, NULL, NULL);
      path = gk_vol_get_path (h, pools[i], vols[j]);
      gk_pop_error_handler (h);
      if (path == NULL)
        continue;
      if (strcmp (d->type, "network") == 0) {
        /* PROTO://HOST[:PORT]/NAME against <source name='NAME'>. */
        const char *p = strstr (path, "://");
        if (p && (p = strchr (p + 3, '/')) != NULL)
          cmp = p + 1;
        match = cmp && strcmp (cmp, d->orig) == 0;
      }
      else if (path[0] == '/') {
        CLEANUP_FREE char *rp = realpath (path, NULL);
        match = strcmp (path, d->orig) == 0 ||
          (rp && real && strcmp (rp, real) == 0);
      }
      else
        match = false;
      if (match) {
        d->src_pool = strdup (pools[i]);
        d->src_vol = strdup (vols[j]);
        if (d->src_pool == NULL || d->src_vol == NULL) {
          perrorf (h, "strdup");
          return -1;
        }
        return 0;
      }
    }
  }
  return 0;
}

static char *
pool_type (gk_h *h, const char *pool)
{
  struct gk_pool_info *info = gk_pool_get_info (h, pool);
  char *t;

  if (info == NULL)
    return NULL;
  t = strdup (info->type);
  gk_free_pool_info (info);
  return t;
}

/* The path (or network name) a volume of the pool will have. */
static char *
volume_source (struct plan *pl, const char *pool, const char *vol)
{
  const struct pool_backend *b;
  struct pool_def *def = gk_int_load_pool (pl->h, pool, &b);
  char *ret = NULL;
  int r = 0;

  if (def == NULL)
    return NULL;
  if (strcmp (def->type, "rbd") == 0)
    r = asprintf (&ret, "%s/%s", def->source_name, vol);
  else if (strcmp (def->type, "iscsi") == 0) {
    ret = gk_vol_get_path (pl->h, pool, vol);
    if (ret) {
      const char *p = strstr (ret, "://");
      if (p && (p = strchr (p + 3, '/')) != NULL)
        memmove (ret, p + 1, strlen (p + 1) + 1);
    }
  }
  else
    r = asprintf (&ret, "%s/%s", def->target_path, vol);
  if (r == -1) {
    perrorf (pl->h, "asprintf");
    ret = NULL;
  }
  gk_int_free_pool_def (def);
  return ret;
}

struct taken_vol {
  struct plan *pl;
  const char *pool;
};

static int
vol_taken (void *opaque, const char *name)
{
  struct taken_vol *t = opaque;
  CLEANUP_FREE char *key = NULL;
  struct gk_vol_info *info;
  size_t i;

  if (asprintf (&key, "%s/%s", t->pool, name) == -1)
    return -1;
  for (i = 0; i < t->pl->chosen.len; ++i)
    if (strcmp (t->pl->chosen.ptr[i], key) == 0)
      return 1;
  gk_push_error_handler (t->pl->h, NULL, NULL);
  info = gk_vol_get_info (t->pl->h, t->pool, name);
  gk_pop_error_handler (t->pl->h);
  gk_free_vol_info (info);
  return info != NULL;
}

static int
path_taken (void *opaque, const char *path)
{
  struct plan *pl = opaque;
  struct stat sb;
  size_t i;

  for (i = 0; i < pl->chosen.len; ++i)
    if (strcmp (pl->chosen.ptr[i], path) == 0)
      return 1;
  return lstat (path, &sb) == 0;
}

static int
choose (struct plan *pl, const char *key)
{
  char *s = strdup (key);

  if (s == NULL || string_vector_append (&pl->chosen, s) == -1) {
    free (s);
    perrorf (pl->h, "clone");
    return -1;
  }
  return 0;
}

/* ---------- planning ---------- */

static int
load_original (struct plan *pl)
{
  gk_h *h = pl->h;
  const struct gk_clone_params *p = pl->p;
  CLEANUP_FREE char *xml = NULL;
  const char *src = p->original_xml;

  if (src == NULL) {
    bool shutoff = false;

    if (p->original == NULL) {
      error_errno (h, EINVAL, "An original machine name is required, use "
                   "'--original src_name' and try again.");
      return -1;
    }
    xml = pl->lv->get_domain_xml (h, p->connect, p->original, &shutoff);
    if (xml == NULL)
      return -1;
    if (!shutoff) {
      error_errno (h, EBUSY, "Domain to clone must be shutoff.");
      return -1;
    }
    src = xml;
  }
  pl->doc = xmlReadMemory (src, strlen (src), NULL, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                           XML_PARSE_NOWARNING);
  if (pl->doc == NULL || xmlDocGetRootElement (pl->doc) == NULL ||
      xmlStrcmp (xmlDocGetRootElement (pl->doc)->name, BAD_CAST "domain")) {
    const xmlError *e = xmlGetLastError ();
    error_errno (h, EINVAL, "original domain XML: %s",
                 pl->doc == NULL && e && e->message ? e->message
                 : "not a <domain>");
    return -1;
  }
  pl->ctx = xmlXPathNewContext (pl->doc);
  if (pl->ctx == NULL) {
    perrorf (h, "xmlXPathNewContext");
    return -1;
  }
  pl->orig_name = text (pl, NULL, "/domain/name");
  pl->orig_uuid = text (pl, NULL, "/domain/uuid");
  if (pl->orig_name == NULL) {
    error_errno (h, EINVAL, "original domain XML has no <name>");
    return -1;
  }
  return 0;
}

static int
name_taken (void *opaque, const char *name)
{
  struct plan *pl = opaque;

  return pl->lv->domain_exists (pl->h, pl->p->connect, name);
}

static int
plan_identity (struct plan *pl)
{
  gk_h *h = pl->h;
  const struct gk_clone_params *p = pl->p;
  xmlNodePtr n;
  size_t i;

  if (p->name) {
    int e;

    if (p->name[0] == '\0' || strchr (p->name, '/')) {
      error_errno (h, EINVAL, "Invalid name for new guest: ‘%s’", p->name);
      return -1;
    }
    e = name_taken (pl, p->name);
    if (e == -1)
      return -1;
    if (e == 1 && !(p->flags & GK_CLONE_REPLACE)) {
      error_errno (h, EEXIST, "Invalid name for new guest: Guest name "
                   "'%s' is already in use.", p->name);
      return -1;
    }
    pl->new_name = strdup (p->name);
  }
  else if (p->flags & GK_CLONE_AUTO)
    pl->new_name = gk_int_clone_name (h, pl->orig_name, name_taken, pl);
  else {
    error_errno (h, EINVAL, "A name is required for the new virtual "
                 "machine, use '--name NEW_VM_NAME' to specify one.");
    return -1;
  }
  if (pl->new_name == NULL)
    return -1;

  if (p->uuid) {
    if (!valid_uuid (p->uuid)) {
      error_errno (h, EINVAL, "Invalid uuid for new guest: ‘%s’", p->uuid);
      return -1;
    }
    pl->new_uuid = strdup (p->uuid);
  }
  else
    pl->new_uuid = gk_int_random_uuid (h);
  if (pl->new_uuid == NULL)
    return -1;
  for (i = 0; pl->all_xml && pl->all_xml[i]; ++i) {
    CLEANUP_FREE char *needle = NULL;
    if (asprintf (&needle, "<uuid>%s</uuid>", pl->new_uuid) != -1 &&
        strcasestr (pl->all_xml[i], needle)) {
      error_errno (h, EEXIST, "UUID %s is in use by another guest",
                   pl->new_uuid);
      return -1;
    }
  }

  if ((n = first (pl, NULL, "/domain/name")) != NULL)
    set_text (n, pl->new_name);
  if ((n = first (pl, NULL, "/domain/uuid")) != NULL)
    set_text (n, pl->new_uuid);
  else
    xmlNewTextChild (xmlDocGetRootElement (pl->doc), NULL, BAD_CAST "uuid",
                     BAD_CAST pl->new_uuid);
  /* The SMBIOS system UUID the guest sees follows the domain's. */
  if ((n = first (pl, NULL,
                  "/domain/sysinfo/system/entry[@name='uuid']")) != NULL)
    set_text (n, pl->new_uuid);
  if ((n = first (pl, NULL, "/domain/title")) != NULL)
    remove_node (n);
  if ((n = first (pl, NULL, "/domain/@id")) != NULL)
    remove_node (n);
  return 0;
}

static int
plan_devices (struct plan *pl)
{
  gk_h *h = pl->h;
  const struct gk_clone_params *p = pl->p;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr ifs = NULL;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr gfx = NULL;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr chans = NULL;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr logs = NULL;
  CLEANUP_FREE char *driver = NULL;
  size_t nmacs = 0;
  int i;
  bool qemu;

  driver = pl->lv->driver_type (h, p->connect);
  if (driver == NULL)
    return -1;
  qemu = strcasecmp (driver, "QEMU") == 0;

  /* MACs: --mac in interface order, RANDOM or missing ones random. */
  for (nmacs = 0; p->macs && p->macs[nmacs]; ++nmacs)
    if (strcmp (p->macs[nmacs], "RANDOM") != 0 && !valid_mac (p->macs[nmacs])) {
      error_errno (h, EINVAL, "invalid MAC address ‘%s’ (expected six "
                   "hex pairs such as 52:54:00:12:34:56, unicast)",
                   p->macs[nmacs]);
      return -1;
    }
  ifs = eval (pl, NULL, "/domain/devices/interface");
  if (nmacs > (size_t) nodes (ifs)) {
    error_errno (h, EINVAL, "%zu --mac options but the domain has %d "
                 "network interface%s", nmacs, nodes (ifs),
                 nodes (ifs) == 1 ? "" : "s");
    return -1;
  }
  for (i = 0; i < nodes (ifs); ++i) {
    xmlNodePtr nic = ifs->nodesetval->nodeTab[i], m, t;
    CLEANUP_FREE char *mac = NULL;

    if ((size_t) i < nmacs && strcmp (p->macs[i], "RANDOM") != 0) {
      mac = strdup (p->macs[i]);
      if (mac_in_use (pl, mac)) {
        CLEANUP_FREE char *msg = NULL;
        if (asprintf (&msg, "The MAC address '%s' is in use by another "
                      "virtual machine.", mac) == -1 ||
            check_fail (pl, GK_CLONE_CHECK_MAC_IN_USE, "mac_in_use",
                        EEXIST, msg) == -1)
          return -1;
      }
    }
    else
      mac = random_mac (pl, qemu);
    if (mac == NULL)
      return -1;
    m = first (pl, nic, "./mac");
    if (m == NULL)
      m = xmlNewChild (nic, NULL, BAD_CAST "mac", NULL);
    xmlSetProp (m, BAD_CAST "address", BAD_CAST mac);
    m->_private = (void *) 1;   /* chosen: counts for mac_in_use */
    if ((t = first (pl, nic, "./target/@dev")) != NULL) {
      xmlNodePtr tgt = t->parent;
      remove_node (t);
      if (tgt->properties == NULL && tgt->children == NULL)
        remove_node (tgt);
    }
  }

  /* Fixed graphics ports would clash: autoport, as virt-manager does. */
  gfx = eval (pl, NULL, "/domain/devices/graphics[@port]");
  for (i = 0; i < nodes (gfx); ++i) {
    xmlNodePtr g = gfx->nodesetval->nodeTab[i];
    xmlChar *port = xmlGetProp (g, BAD_CAST "port");
    if (port && strcmp ((char *) port, "-1") != 0) {
      warning (h, "Setting the graphics device port to autoport, in order "
               "to avoid conflicting.");
      xmlSetProp (g, BAD_CAST "port", BAD_CAST "-1");
      xmlUnsetProp (g, BAD_CAST "autoport");
    }
    xmlFree (port);
  }

  /* Unix channel sockets named after the old domain: libvirt makes new. */
  chans = eval (pl, NULL, "/domain/devices/channel[@type='unix']/source/@path");
  for (i = 0; i < nodes (chans); ++i) {
    xmlNodePtr a = chans->nodesetval->nodeTab[i];
    xmlChar *path = xmlNodeGetContent (a);
    if (path && strstr ((char *) path, pl->orig_name))
      remove_node (a);
    xmlFree (path);
  }

  /* Serial and console log files: the clone's own. */
  logs = eval (pl, NULL, "/domain/devices/serial[@type='file']/source/@path"
               " | /domain/devices/console[@type='file']/source/@path"
               " | /domain/devices/serial/log/@file"
               " | /domain/devices/console/log/@file");
  for (i = 0; i < nodes (logs); ++i) {
    xmlNodePtr a = logs->nodesetval->nodeTab[i];
    xmlChar *path = xmlNodeGetContent (a);
    CLEANUP_FREE char *np = NULL;
    const char *base, *hit;

    if (path == NULL)
      continue;
    base = strrchr ((char *) path, '/');
    base = base ? base + 1 : (char *) path;
    hit = strstr (base, pl->orig_name);
    if (hit) {
      if (asprintf (&np, "%.*s%s%s", (int) (hit - (char *) path),
                    (char *) path, pl->new_name,
                    hit + strlen (pl->orig_name)) == -1)
        np = NULL;
    }
    else
      np = gk_int_clone_path (h, pl->orig_name, pl->new_name,
                              (char *) path, path_taken, pl);
    xmlFree (path);
    if (np == NULL)
      return -1;
    set_text (a, np);
  }
  return 0;
}

/* A new value for a disk <serial> (same length, letters and digits) or
 * <wwn> (the NAA and OUI nibbles kept, the rest random).
 */
static int
renew_disk_ids (struct plan *pl, xmlNodePtr disk)
{
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static const char hex[] = "0123456789abcdef";
  xmlNodePtr n;

  if ((n = first (pl, disk, "./serial")) != NULL) {
    xmlChar *old = xmlNodeGetContent (n);
    size_t len = old ? strlen ((char *) old) : 0, i;
    CLEANUP_FREE unsigned char *r = malloc (len + 1);
    xmlFree (old);
    if (len > 0) {
      if (r == NULL || random_bytes (pl->h, r, len) == -1)
        return -1;
      for (i = 0; i < len; ++i)
        r[i] = alnum[r[i] % (sizeof alnum - 1)];
      r[len] = '\0';
      set_text (n, (char *) r);
    }
  }
  if ((n = first (pl, disk, "./wwn")) != NULL) {
    xmlChar *old = xmlNodeGetContent (n);
    size_t len = old ? strlen ((char *) old) : 0, i;
    CLEANUP_FREE unsigned char *r = malloc (len + 1);
    if (len > 7) {
      if (r == NULL || random_bytes (pl->h, r, len) == -1) {
        xmlFree (old);
        return -1;
      }
      memcpy (r, old, 7);
      for (i = 7; i < len; ++i)
        r[i] = hex[r[i] % 16];
      r[len] = '\0';
      set_text (n, (char *) r);
    }
    xmlFree (old);
  }
  return 0;
}

static int
disk_info (struct plan *pl, xmlNodePtr node, struct clone_disk *d)
{
  d->node = node;
  d->target = text (pl, node, "./target/@dev");
  d->type = text (pl, node, "./@type");
  d->format = text (pl, node, "./driver/@type");
  if (d->type == NULL && (d->type = strdup ("file")) == NULL)
    return -1;
  if (strcmp (d->type, "file") == 0)
    d->orig = text (pl, node, "./source/@file");
  else if (strcmp (d->type, "block") == 0)
    d->orig = text (pl, node, "./source/@dev");
  else if (strcmp (d->type, "network") == 0)
    d->orig = text (pl, node, "./source/@name");
  else if (strcmp (d->type, "volume") == 0) {
    CLEANUP_FREE char *pool = text (pl, node, "./source/@pool");
    CLEANUP_FREE char *vol = text (pl, node, "./source/@volume");
    if (pool && vol && asprintf (&d->orig, "%s/%s", pool, vol) == -1)
      d->orig = NULL;
  }
  return 0;
}

/* Where does a --file argument put the copy?  POOL/VOL for a guestkit
 * pool, else a path.
 */
static int
set_destination (struct plan *pl, struct clone_disk *d, const char *file)
{
  gk_h *h = pl->h;
  const char *slash = strchr (file, '/');

  if (file[0] != '/' && slash) {
    CLEANUP_FREE char *pool = strndup (file, slash - file);
    struct gk_pool_info *info;

    gk_push_error_handler (h, NULL, NULL);
    info = pool ? gk_pool_get_info (h, pool) : NULL;
    gk_pop_error_handler (h);
    if (info) {
      gk_free_pool_info (info);
      d->dst_pool = strdup (pool);
      d->dst_vol = strdup (slash + 1);
      return d->dst_pool && d->dst_vol ? 0 : -1;
    }
  }
  if (file[0] != '/') {
    CLEANUP_FREE char *cwd = getcwd (NULL, 0);
    if (cwd == NULL || asprintf (&d->new_path, "%s/%s", cwd, file) == -1) {
      perrorf (h, "getcwd");
      return -1;
    }
    return 0;
  }
  /* An absolute path inside a pool of the source's: that pool. */
  d->new_path = strdup (file);
  return d->new_path ? 0 : -1;
}

static int
plan_disks (struct plan *pl)
{
  gk_h *h = pl->h;
  const struct gk_clone_params *p = pl->p;
  CLEANUP_XMLXPATHFREEOBJECT xmlXPathObjectPtr disks =
    eval (pl, NULL, "/domain/devices/disk");
  size_t nfiles = 0, nextfile = 0;
  int i;

  for (nfiles = 0; p->files && p->files[nfiles]; ++nfiles)
    ;
  pl->n_disks = nodes (disks);
  pl->disks = calloc (pl->n_disks + 1, sizeof *pl->disks);
  if (pl->disks == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  for (i = 0; i < (int) pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    xmlNodePtr node = disks->nodesetval->nodeTab[i];
    bool shared = false, forced;

    if (disk_info (pl, node, d) == -1) {
      perrorf (h, "clone");
      return -1;
    }
    forced = in_list (p->force_copy, d->target);
    /* Shared unless forced: no media, read-only, shareable. */
    if (d->orig == NULL ||
        first (pl, node, "./readonly") || first (pl, node, "./shareable"))
      shared = true;
    if (forced && d->orig != NULL)
      shared = false;
    if (in_list (p->skip_copy, d->target))
      shared = true;
    if (shared) {
      d->action = DISK_SHARE;
      continue;
    }
    d->action = (p->flags & GK_CLONE_PRESERVE_DATA) ? DISK_PRESERVE
      : DISK_COPY;

    if (strcmp (d->type, "network") == 0 || strcmp (d->type, "volume") == 0
        || d->orig[0] == '/')
      if (find_volume (pl, d) == -1)
        return -1;
    if (strcmp (d->type, "network") == 0 && d->src_pool == NULL) {
      CLEANUP_FREE char *proto = text (pl, node, "./source/@protocol");
      error_errno (h, ENOTSUP, "disk %s: network disk %s:%s is not in any "
                   "guestkit pool (define its pool with ‘guestkit "
                   "pool-define-as’ to clone it)", d->target,
                   proto ? proto : "?", d->orig);
      return -1;
    }
    if (strcmp (d->type, "volume") == 0 && d->src_pool == NULL)
      return -1;

    if (nextfile < nfiles) {
      if (set_destination (pl, d, p->files[nextfile++]) == -1)
        return -1;
    }
    else if (d->action == DISK_PRESERVE) {
      error_errno (h, EINVAL, "--preserve-data needs a --file for every "
                   "disk to clone (none for %s)", d->target);
      return -1;
    }
    else if (!(p->flags & GK_CLONE_AUTO)) {
      error_errno (h, EINVAL, "disk %s needs a new path: give one more "
                   "--file, or use --auto-clone", d->target);
      return -1;
    }
    else if (d->src_pool) {
      struct taken_vol t = { pl, p->pool ? p->pool : d->src_pool };
      CLEANUP_FREE char *ptype = pool_type (h, t.pool);

      if (ptype == NULL)
        return -1;
      if (strcmp (ptype, "iscsi") == 0) {
        error_errno (h, ENOTSUP, "disk %s: iSCSI pools cannot create "
                     "volumes: name a pre-created LUN with --file "
                     "POOL/VOLUME", d->target);
        return -1;
      }
      d->dst_pool = strdup (t.pool);
      d->dst_vol = gk_int_clone_path (h, pl->orig_name, pl->new_name,
                                      d->src_vol, vol_taken, &t);
      if (d->dst_pool == NULL || d->dst_vol == NULL)
        return -1;
    }
    else {
      d->new_path = gk_int_clone_path (h, pl->orig_name, pl->new_name,
                                       d->orig, path_taken, pl);
      if (d->new_path == NULL)
        return -1;
    }

    /* --pool moves a volume: a path given was relative to nothing. */
    if (d->dst_pool == NULL && p->pool && d->src_pool && d->new_path) {
      const char *base = strrchr (d->new_path, '/');
      d->dst_pool = strdup (p->pool);
      d->dst_vol = strdup (base ? base + 1 : d->new_path);
      free (d->new_path);
      d->new_path = NULL;
    }
    /* A path inside the source's own pool: a volume of that pool. */
    if (d->dst_pool == NULL && d->src_pool && d->new_path) {
      CLEANUP_FREE char *dir = strdup (d->new_path);
      CLEANUP_FREE char *probe = NULL;
      char *slash = dir ? strrchr (dir, '/') : NULL;

      if (slash) {
        *slash = '\0';
        probe = volume_source (pl, d->src_pool, slash + 1);
        if (probe && strcmp (probe, d->new_path) == 0) {
          d->dst_pool = strdup (d->src_pool);
          d->dst_vol = strdup (slash + 1);
          free (d->new_path);
          d->new_path = NULL;
        }
      }
    }
    if (d->dst_pool) {
      CLEANUP_FREE char *key = NULL;
      CLEANUP_FREE char *ptype = pool_type (h, d->dst_pool);
      struct gk_vol_info *info;

      if (ptype == NULL)
        return -1;
      if (gk_int_check_name (h, "volume", d->dst_vol) == -1)
        return -1;
      d->into_existing = strcmp (ptype, "iscsi") == 0;
      d->dst_is_dir = strcmp (ptype, "dir") == 0;
      gk_push_error_handler (h, NULL, NULL);
      info = gk_vol_get_info (h, d->dst_pool, d->dst_vol);
      gk_pop_error_handler (h);
      if (d->src_pool == NULL && d->action == DISK_COPY) {
        error_errno (h, ENOTSUP, "disk %s: %s is not a volume of any "
                     "guestkit pool: it can only be copied to a path",
                     d->target, d->orig);
        gk_free_vol_info (info);
        return -1;
      }
      if (d->action == DISK_PRESERVE && info == NULL) {
        error_errno (h, ENOENT, "Disk path '%s/%s' does not exist.",
                     d->dst_pool, d->dst_vol);
        return -1;
      }
      if (d->into_existing && info == NULL) {
        error_errno (h, ENOENT, "disk %s: volume ‘%s’ does not exist in "
                     "pool ‘%s’ (iSCSI LUNs must be created on the target "
                     "first)", d->target, d->dst_vol, d->dst_pool);
        return -1;
      }
      if (info && d->action == DISK_COPY && !d->into_existing) {
        gk_free_vol_info (info);
        error_errno (h, EEXIST, "Clone onto existing storage volume is not "
                     "currently supported: ‘%s’ in pool ‘%s’", d->dst_vol,
                     d->dst_pool);
        return -1;
      }
      gk_free_vol_info (info);
      d->new_path = volume_source (pl, d->dst_pool, d->dst_vol);
      if (d->new_path == NULL ||
          asprintf (&key, "%s/%s", d->dst_pool, d->dst_vol) == -1 ||
          choose (pl, key) == -1)
        return -1;
      if (d->action == DISK_COPY &&
          asprintf (&d->tmp, "%s%s", TMP_PREFIX, d->dst_vol) == -1)
        return -1;
    }
    else {
      struct stat sb;
      bool exists = stat (d->new_path, &sb) == 0;
      CLEANUP_FREE char *users = NULL;

      if (path_taken (pl, d->new_path) == 1 && !exists) {
        error_errno (h, EEXIST, "disk %s: %s is already the path of "
                     "another disk of this clone", d->target, d->new_path);
        return -1;
      }
      if (d->action == DISK_PRESERVE && !exists) {
        error_errno (h, ENOENT, "Disk path '%s' does not exist.",
                     d->new_path);
        return -1;
      }
      if (d->action == DISK_COPY && exists) {
        CLEANUP_FREE char *msg = NULL;
        if (strcmp (d->new_path, d->orig) == 0) {
          error_errno (h, EINVAL, "disk %s: the clone's path is the "
                       "original's (%s)", d->target, d->orig);
          return -1;
        }
        if (asprintf (&msg, "This will overwrite the existing path '%s'",
                      d->new_path) == -1 ||
            check_fail (pl, GK_CLONE_CHECK_PATH_EXISTS, "path_exists",
                        EEXIST, msg) == -1)
          return -1;
      }
      users = path_users (pl, d->new_path);
      if (users) {
        CLEANUP_FREE char *msg = NULL;
        if (asprintf (&msg, "Disk %s is already in use by other guests %s.",
                      d->new_path, users) == -1 ||
            check_fail (pl, GK_CLONE_CHECK_PATH_IN_USE, "path_in_use",
                        EBUSY, msg) == -1)
          return -1;
      }
      if (choose (pl, d->new_path) == -1)
        return -1;
      if (d->action == DISK_COPY) {
        CLEANUP_FREE char *dir = strdup (d->new_path);
        char *slash = strrchr (dir, '/');
        *slash = '\0';
        if (asprintf (&d->tmp, "%s/%s%s", dir[0] ? dir : "/", TMP_PREFIX,
                      slash + 1) == -1)
          return -1;
      }
    }
    if (renew_disk_ids (pl, node) == -1)
      return -1;
  }
  if (nextfile < nfiles) {
    error_errno (h, EINVAL, "%zu --file option%s but only %zu disk%s to "
                 "clone", nfiles, nfiles == 1 ? "" : "s", nextfile,
                 nextfile == 1 ? "" : "s");
    return -1;
  }
  return 0;
}

/* Rewrite the disks' sources now that the destinations are known. */
static void
rewrite_disks (struct plan *pl)
{
  size_t i;

  for (i = 0; i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    xmlNodePtr src = first (pl, d->node, "./source");

    if (d->action == DISK_SHARE || src == NULL)
      continue;
    if (strcmp (d->type, "file") == 0)
      xmlSetProp (src, BAD_CAST "file", BAD_CAST d->new_path);
    else if (strcmp (d->type, "block") == 0)
      xmlSetProp (src, BAD_CAST "dev", BAD_CAST d->new_path);
    else if (strcmp (d->type, "network") == 0)
      xmlSetProp (src, BAD_CAST "name", BAD_CAST d->new_path);
    else if (strcmp (d->type, "volume") == 0) {
      xmlSetProp (src, BAD_CAST "pool", BAD_CAST d->dst_pool);
      xmlSetProp (src, BAD_CAST "volume", BAD_CAST d->dst_vol);
    }
    /* A linked clone of a file (or of a dir pool's volume) is a qcow2
     * overlay; rbd layered clones and thin snapshots keep their format.
     */
    if ((pl->p->flags & GK_CLONE_LINKED) && d->action == DISK_COPY &&
        (d->dst_pool == NULL || d->dst_is_dir)) {
      xmlNodePtr drv = first (pl, d->node, "./driver");
      if (drv)
        xmlSetProp (drv, BAD_CAST "type", BAD_CAST "qcow2");
    }
  }
}

static int
plan_nvram (struct plan *pl)
{
  gk_h *h = pl->h;
  const struct gk_clone_params *p = pl->p;
  xmlNodePtr n = first (pl, NULL, "/domain/os/nvram");
  struct stat sb;

  if (n == NULL)
    return 0;
  pl->nvram_orig = text (pl, NULL, "/domain/os/nvram");
  if (pl->nvram_orig == NULL || pl->nvram_orig[0] == '\0')
    return 0;
  if (p->nvram)
    pl->nvram_new = strdup (p->nvram);
  else {
    const char *slash = strrchr (pl->nvram_orig, '/');
    const char *dot = strrchr (slash ? slash : pl->nvram_orig, '.');
    if (asprintf (&pl->nvram_new, "%.*s%s_VARS%s",
                  slash ? (int) (slash - pl->nvram_orig + 1) : 0,
                  pl->nvram_orig, pl->new_name, dot ? dot : ".fd") == -1)
      pl->nvram_new = NULL;
  }
  if (pl->nvram_new == NULL) {
    perrorf (h, "nvram");
    return -1;
  }
  set_text (n, pl->nvram_new);
  if (p->flags & GK_CLONE_PRESERVE_DATA)
    return 0;
  if (stat (pl->nvram_new, &sb) == 0) {
    CLEANUP_FREE char *msg = NULL;
    if (asprintf (&msg, "This will overwrite the existing path '%s'",
                  pl->nvram_new) == -1 ||
        check_fail (pl, GK_CLONE_CHECK_PATH_EXISTS, "path_exists", EEXIST,
                    msg) == -1)
      return -1;
  }
  /* An original that was never started has no VARS file yet: libvirt
   * makes the clone's from the template, as it would have the original's.
   */
  if (stat (pl->nvram_orig, &sb) == 0) {
    CLEANUP_FREE char *dir = strdup (pl->nvram_new);
    char *slash = dir ? strrchr (dir, '/') : NULL;
    pl->nvram_copy = true;
    if (slash == NULL) {
      error_errno (h, EINVAL, "--nvram must be an absolute path");
      return -1;
    }
    *slash = '\0';
    if (asprintf (&pl->nvram_tmp, "%s/%s%s", dir, TMP_PREFIX,
                  slash + 1) == -1)
      return -1;
  }
  return 0;
}

/* swtpm keeps an emulated TPM's state in a directory named after the
 * domain's UUID: the clone gets a copy under its own UUID, or its TPM
 * would start empty (and BitLocker or measured boot would fail).
 */
static int
plan_tpm (struct plan *pl)
{
  const char *base = getenv ("GUESTKIT_SWTPM_DIR");
  struct stat sb;

  if (!first (pl, NULL, "/domain/devices/tpm/backend[@type='emulator']") ||
      pl->orig_uuid == NULL || (pl->p->flags & GK_CLONE_PRESERVE_DATA))
    return 0;
  if (base == NULL)
    base = "/var/lib/libvirt/swtpm";
  if (asprintf (&pl->tpm_orig, "%s/%s", base, pl->orig_uuid) == -1 ||
      asprintf (&pl->tpm_new, "%s/%s", base, pl->new_uuid) == -1 ||
      asprintf (&pl->tpm_tmp, "%s/%s%s", base, TMP_PREFIX,
                pl->new_uuid) == -1) {
    perrorf (pl->h, "asprintf");
    return -1;
  }
  if (stat (pl->tpm_orig, &sb) == -1 || !S_ISDIR (sb.st_mode)) {
    debug (pl->h, "clone: no TPM state in %s to copy", pl->tpm_orig);
    free (pl->tpm_orig);
    pl->tpm_orig = NULL;
  }
  return 0;
}

/* disk_size: is there room for the copies?  Counted per filesystem. */
static int
check_space (struct plan *pl)
{
  size_t i, j;

  for (i = 0; i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    struct stat sb;

    if (d->action != DISK_COPY || d->dst_pool || d->tmp == NULL)
      continue;
    if (stat (d->orig, &sb) == 0 && S_ISREG (sb.st_mode))
      d->need = (pl->p->flags & GK_CLONE_NONSPARSE) ? (uint64_t) sb.st_size
        : (uint64_t) sb.st_blocks * 512;
    if (pl->p->flags & GK_CLONE_LINKED)
      d->need = 0;
  }
  for (i = 0; i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    CLEANUP_FREE char *dir = NULL;
    struct statvfs sv;
    struct stat sb;
    uint64_t need = 0, avail;
    char *slash;

    if (d->need == 0)
      continue;
    dir = strdup (d->tmp);
    if (dir == NULL)
      return -1;
    slash = strrchr (dir, '/');
    *slash = '\0';
    if (statvfs (dir[0] ? dir : "/", &sv) == -1 || stat (dir, &sb) == -1) {
      perrorf (pl->h, "%s", dir);
      return -1;
    }
    /* Every copy onto the same filesystem (st_dev) counts. */
    for (j = 0; j < pl->n_disks; ++j) {
      struct stat sb2;
      CLEANUP_FREE char *dir2 = pl->disks[j].need ? strdup (pl->disks[j].tmp)
        : NULL;
      char *s2 = dir2 ? strrchr (dir2, '/') : NULL;
      if (s2 == NULL)
        continue;
      *s2 = '\0';
      if (stat (dir2[0] ? dir2 : "/", &sb2) == 0 && sb2.st_dev == sb.st_dev)
        need += pl->disks[j].need;
    }
    avail = (uint64_t) sv.f_bavail * sv.f_frsize;
    if (need > avail) {
      CLEANUP_FREE char *msg = NULL;
      if (asprintf (&msg, "There is not enough free space to create the "
                    "disk. %" PRIu64 " M requested > %" PRIu64 " M available",
                    need / (1024 * 1024), avail / (1024 * 1024)) == -1 ||
          check_fail (pl, GK_CLONE_CHECK_DISK_SIZE, "disk_size", ENOSPC,
                      msg) == -1)
        return -1;
    }
  }
  return 0;
}

static int
plan (struct plan *pl)
{
  pl->lv = gk_int_module_get (pl->h, "domain",
                              sizeof (struct gk_libvirt_module));
  if (pl->lv == NULL)
    return -1;
  if (pl->p->flags & ~(GK_CLONE_AUTO | GK_CLONE_NONSPARSE |
                       GK_CLONE_PRESERVE_DATA | GK_CLONE_REFLINK |
                       GK_CLONE_LINKED | GK_CLONE_REPLACE)) {
    error_errno (pl->h, EINVAL, "clone: unknown flags 0x%x", pl->p->flags);
    return -1;
  }
  if ((pl->p->flags & GK_CLONE_LINKED) && (pl->p->flags &
      (GK_CLONE_NONSPARSE | GK_CLONE_REFLINK | GK_CLONE_PRESERVE_DATA))) {
    error_errno (pl->h, EINVAL, "--linked cannot be combined with "
                 "--nonsparse, --reflink or --preserve-data");
    return -1;
  }
  if (load_original (pl) == -1)
    return -1;
  pl->all_xml = pl->lv->all_domain_xml (pl->h, pl->p->connect);
  if (pl->all_xml == NULL)
    return -1;
  if (plan_identity (pl) == -1 || plan_devices (pl) == -1 ||
      plan_disks (pl) == -1 || plan_nvram (pl) == -1 ||
      plan_tpm (pl) == -1 || check_space (pl) == -1)
    return -1;
  rewrite_disks (pl);
  return 0;
}

static char *
plan_xml (struct plan *pl)
{
  xmlBufferPtr buf = xmlBufferCreate ();
  char *ret = NULL;

  if (buf == NULL)
    return NULL;
  if (xmlNodeDump (buf, pl->doc, xmlDocGetRootElement (pl->doc), 0, 0) >= 0)
    ret = strdup ((const char *) xmlBufferContent (buf));
  xmlBufferFree (buf);
  if (ret == NULL)
    perrorf (pl->h, "xmlNodeDump");
  return ret;
}

static void
plan_free (struct plan *pl)
{
  size_t i;

  for (i = 0; pl->disks && i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    free (d->target); free (d->type); free (d->orig); free (d->format);
    free (d->src_pool); free (d->src_vol); free (d->new_path);
    free (d->dst_pool); free (d->dst_vol); free (d->tmp); free (d->aside);
  }
  free (pl->disks);
  if (pl->ctx)
    xmlXPathFreeContext (pl->ctx);
  if (pl->doc)
    xmlFreeDoc (pl->doc);
  free (pl->orig_name); free (pl->orig_uuid);
  free (pl->new_name); free (pl->new_uuid);
  gk_free_string_list (pl->all_xml);
  string_vector_free_all (&pl->chosen);
  free (pl->nvram_orig); free (pl->nvram_new); free (pl->nvram_tmp);
  free (pl->nvram_aside);
  free (pl->tpm_orig); free (pl->tpm_new); free (pl->tpm_tmp);
  free (pl->replaced_xml);
}

char *
gk_clone_domain_xml (gk_h *h, const struct gk_clone_params *p)
{
  struct plan pl = { .h = h, .p = p };
  char *xml = NULL;

  trace (h, "gk_clone_domain_xml %s", p->original ? p->original : "(xml)");
  if (plan (&pl) == 0)
    xml = plan_xml (&pl);
  plan_free (&pl);
  return xml;
}

/* ---------- carrying it out ---------- */

static int
copy_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct plan *pl = opaque;

  if (cancelled (pl->h))
    return -1;
  if (pl->p->progress)
    return pl->p->progress (pl->p->progress_opaque, done, total);
  return 0;
}

static uint64_t
size_of (const char *path)
{
  struct stat sb;

  return stat (path, &sb) == 0 ? (uint64_t) sb.st_size : 0;
}

static int
make_copies (struct plan *pl)
{
  gk_h *h = pl->h;
  unsigned f = pl->p->flags;
  size_t i;

  for (i = 0; i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];
    int r;

    if (d->action != DISK_COPY)
      continue;
    if (cancelled (h)) {
      error_errno (h, ECANCELED, "clone cancelled");
      return -1;
    }
    if (pl->p->copy_start)
      pl->p->copy_start (pl->p->progress_opaque, d->new_path,
                         d->src_pool ? 0 : size_of (d->orig));
    if (d->dst_pool) {
      unsigned vf = ((f & GK_CLONE_REFLINK) ? GK_VOL_CLONE_REFLINK : 0) |
        ((f & GK_CLONE_LINKED) ? GK_VOL_CLONE_LINKED : 0);
      const char *src_pool = d->src_pool, *src_vol = d->src_vol;

      /* iSCSI LUNs cannot be made: the copy goes into the LUN itself. */
      r = gk_vol_clone (h, src_pool, src_vol, d->dst_pool,
                        d->into_existing ? d->dst_vol : d->tmp, vf);
    }
    else
      r = gk_int_clone_copy_file (h, d->orig, d->format, d->tmp,
                                  ((f & GK_CLONE_NONSPARSE) ?
                                   CLONE_COPY_NONSPARSE : 0) |
                                  ((f & GK_CLONE_REFLINK) ?
                                   CLONE_COPY_REFLINK : 0) |
                                  ((f & GK_CLONE_LINKED) ?
                                   CLONE_COPY_LINKED : 0),
                                  copy_progress, pl);
    if (r == -1)
      return -1;
    d->made = !d->into_existing;
    if (cancelled (h)) {
      error_errno (h, ECANCELED, "clone cancelled");
      return -1;
    }
  }
  if (pl->nvram_copy) {
    if (gk_int_clone_copy_file (h, pl->nvram_orig, NULL, pl->nvram_tmp, 0,
                                copy_progress, pl) == -1)
      return -1;
    pl->nvram_made = true;
  }
  if (pl->tpm_orig) {
    const char *argv[] = { "cp", "-a", "--", pl->tpm_orig, pl->tpm_tmp, NULL };
    if (gk_int_run (h, argv, NULL) == -1)
      return -1;
  }
  return 0;
}

/* Move an existing file out of the way: it comes back on failure. */
static int
move_aside (gk_h *h, const char *path, char **aside)
{
  CLEANUP_FREE char *dir = strdup (path);
  char *slash = dir ? strrchr (dir, '/') : NULL;
  struct stat sb;

  if (lstat (path, &sb) == -1)
    return 0;
  if (slash == NULL)
    return -1;
  *slash = '\0';
  if (asprintf (aside, "%s/%sold-%s", dir, TMP_PREFIX, slash + 1) == -1) {
    *aside = NULL;
    return -1;
  }
  if (rename (path, *aside) == -1) {
    perrorf (h, "rename: %s", path);
    free (*aside);
    *aside = NULL;
    return -1;
  }
  return 0;
}

static int
commit (struct plan *pl)
{
  gk_h *h = pl->h;
  size_t i;

  for (i = 0; i < pl->n_disks; ++i) {
    struct clone_disk *d = &pl->disks[i];

    if (!d->made)
      continue;
    if (d->dst_pool) {
      if (gk_vol_rename (h, d->dst_pool, d->tmp, d->dst_vol) == -1)
        return -1;
    }
    else {
      if (move_aside (h, d->new_path, &d->aside) == -1 ||
          rename (d->tmp, d->new_path) == -1) {
        perrorf (h, "rename: %s", d->new_path);
        return -1;
      }
    }
    d->committed = true;
  }
  if (pl->nvram_made) {
    if (move_aside (h, pl->nvram_new, &pl->nvram_aside) == -1 ||
        rename (pl->nvram_tmp, pl->nvram_new) == -1) {
      perrorf (h, "rename: %s", pl->nvram_new);
      return -1;
    }
    pl->nvram_committed = true;
  }
  if (pl->tpm_orig) {
    if (rename (pl->tpm_tmp, pl->tpm_new) == -1) {
      perrorf (h, "rename: %s", pl->tpm_new);
      return -1;
    }
    pl->tpm_committed = true;
  }
  return 0;
}

/* Undo everything, in reverse, quietly: the first error is the one. */
static void
rollback (struct plan *pl)
{
  gk_h *h = pl->h;
  size_t i;

  gk_push_error_handler (h, NULL, NULL);
  if (pl->replaced && pl->replaced_xml)
    pl->lv->define_xml (h, pl->p->connect, pl->replaced_xml);
  if (pl->tpm_orig) {
    const char *argv[] = { "rm", "-rf", "--",
                           pl->tpm_committed ? pl->tpm_new : pl->tpm_tmp,
                           NULL };
    gk_int_run (h, argv, NULL);
  }
  if (pl->nvram_made) {
    unlink (pl->nvram_committed ? pl->nvram_new : pl->nvram_tmp);
    if (pl->nvram_aside)
      rename (pl->nvram_aside, pl->nvram_new);
  }
  for (i = pl->n_disks; i-- > 0; ) {
    struct clone_disk *d = &pl->disks[i];

    if (!d->made)
      continue;
    if (d->dst_pool)
      gk_vol_delete (h, d->dst_pool, d->committed ? d->dst_vol : d->tmp);
    else {
      unlink (d->committed ? d->new_path : d->tmp);
      if (d->aside)
        rename (d->aside, d->new_path);
    }
  }
  gk_pop_error_handler (h);
}

/* Success: the files moved aside go. */
static void
drop_asides (struct plan *pl)
{
  size_t i;

  for (i = 0; i < pl->n_disks; ++i)
    if (pl->disks[i].aside)
      unlink (pl->disks[i].aside);
  if (pl->nvram_aside)
    unlink (pl->nvram_aside);
}

char *
gk_clone_domain (gk_h *h, const struct gk_clone_params *p)
{
  struct plan pl = { .h = h, .p = p };
  CLEANUP_FREE char *xml = NULL;
  char *ret = NULL;

  trace (h, "gk_clone_domain %s", p->original ? p->original : "(xml)");
  h->cancelled = 0;
  if (plan (&pl) == -1 || (xml = plan_xml (&pl)) == NULL)
    goto out;
  if (make_copies (&pl) == -1 || commit (&pl) == -1)
    goto fail;
  if (cancelled (h)) {
    error_errno (h, ECANCELED, "clone cancelled");
    goto fail;
  }
  /* --replace: the old domain goes only now that the new one is ready. */
  if ((p->flags & GK_CLONE_REPLACE) &&
      pl.lv->domain_exists (h, p->connect, pl.new_name) == 1) {
    bool shutoff;

    pl.replaced_xml = pl.lv->get_domain_xml (h, p->connect, pl.new_name,
                                             &shutoff);
    if (pl.replaced_xml == NULL ||
        pl.lv->undefine (h, p->connect, pl.new_name) == -1)
      goto fail;
    pl.replaced = true;
  }
  if (pl.lv->define_xml (h, p->connect, xml) == -1)
    goto fail;
  drop_asides (&pl);
  ret = strdup (pl.new_name);
  if (ret == NULL)
    perrorf (h, "strdup");
  goto out;

 fail:
  rollback (&pl);
 out:
  plan_free (&pl);
  return ret;
}

void
gk_user_cancel (gk_h *h)
{
  h->cancelled = 1;
  gk_int_appliance_cancel (h);
}
