/* libguestkit: the drives of a handle (files, block devices and URIs). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <unistd.h>
#include <errno.h>

#include <libxml/uri.h>

#include "internal.h"

void
gk_int_free_drive (struct drive *drv)
{
  free (drv->path);
  free (drv->protocol);
  free_string_list (drv->servers);
  free (drv->username);
  free (drv->secret);
  free (drv->format);
  memset (drv, 0, sizeof *drv);
}

/* Does it look like a URI?  A short lower-case scheme followed by "://"
 * (the same rule guestfish and virt-df use, so "./a://b" stays a file).
 */
int
gk_int_is_uri (const char *arg)
{
  const char *p = strstr (arg, "://");

  if (p == NULL || p == arg || p - arg > 8)
    return 0;
  for (p--; p >= arg; p--)
    if (!(islower ((unsigned char) *p) || *p == '+'))
      return 0;
  return 1;
}

/* Value of NAME in a URI query string "a=b&c=d", unescaped, or NULL. */
static char *
query_get (const char *query, const char *name)
{
  size_t namelen = strlen (name);

  while (query && *query) {
    size_t len = strcspn (query, "&;");

    if (len > namelen && strncmp (query, name, namelen) == 0 &&
        query[namelen] == '=')
      return xmlURIUnescapeString (query + namelen + 1,
                                   len - namelen - 1, NULL);
    query += len;
    if (*query)
      query++;
  }
  return NULL;
}

static const char *const protocols[] = {
  "file", "ftp", "ftps", "gluster", "http", "https", "iscsi", "nbd",
  "rbd", "sheepdog", "ssh", "tftp", NULL
};

int
gk_int_parse_uri (gk_h *h, const char *arg, struct drive *drv)
{
  xmlURIPtr uri;
  CLEANUP_FREE char *sock = NULL;
  const char *path;
  const char *scheme;
  size_t i;
  int r = -1;

  uri = xmlParseURI (arg);
  if (uri == NULL) {
    error_errno (h, EINVAL, "--add: could not parse URI ‘%s’", arg);
    return -1;
  }
  scheme = uri->scheme;
  if (scheme == NULL || strcmp (scheme, "") == 0) {
    error_errno (h, EINVAL, "%s: scheme of URI is NULL or empty", arg);
    goto out;
  }
  if (strcmp (scheme, "nbd+unix") == 0)
    scheme = "nbd";
  for (i = 0; protocols[i] != NULL; ++i)
    if (strcmp (scheme, protocols[i]) == 0)
      break;
  if (protocols[i] == NULL) {
    error_errno (h, EINVAL, "%s: unknown protocol ‘%s’", arg, scheme);
    goto out;
  }

  sock = query_get (uri->query_raw, "socket");
  if (uri->server && strcmp (uri->server, "") != 0 && sock) {
    error_errno (h, EINVAL, "%s: cannot have both a server name and a "
                 "socket query parameter", arg);
    goto out;
  }

  drv->protocol = strdup (scheme);
  if (drv->protocol == NULL)
    goto oom;
  if (sock || (uri->server && strcmp (uri->server, "") != 0)) {
    drv->servers = calloc (2, sizeof (char *));
    if (drv->servers == NULL)
      goto oom;
    if (sock) {
      if (asprintf (&drv->servers[0], "unix:%s", sock) == -1)
        goto oom;
    }
    else if (uri->port > 0) {
      if (asprintf (&drv->servers[0], "%s:%d", uri->server, uri->port) == -1)
        goto oom;
    }
    else if ((drv->servers[0] = strdup (uri->server)) == NULL)
      goto oom;
  }

  if (uri->user && strcmp (uri->user, "") != 0) {
    char *colon;

    drv->username = strdup (uri->user);
    if (drv->username == NULL)
      goto oom;
    colon = strchr (drv->username, ':');
    if (colon) {
      *colon = '\0';
      if (colon[1] && (drv->secret = strdup (colon + 1)) == NULL)
        goto oom;
    }
  }

  /* rbd:///pool/disk names the export "pool/disk": drop the leading '/'
   * for the protocols whose path is an export name.
   */
  path = uri->path ? uri->path : "";
  if (path[0] == '/' &&
      (strcmp (scheme, "gluster") == 0 || strcmp (scheme, "iscsi") == 0 ||
       strcmp (scheme, "nbd") == 0 || strcmp (scheme, "rbd") == 0 ||
       strcmp (scheme, "sheepdog") == 0))
    path++;
  drv->path = strdup (path);
  if (drv->path == NULL)
    goto oom;
  r = 0;
  goto out;

 oom:
  perrorf (h, "parse_uri");
 out:
  xmlFreeURI (uri);
  return r;
}

int
gk_int_add_drive_struct (gk_h *h, struct drive *drv)
{
  if (drive_vector_append (&h->drives, *drv) == -1) {
    perrorf (h, "add_drive");
    return -1;
  }
  memset (drv, 0, sizeof *drv);
  return 0;
}

int
gk_add_drive (gk_h *h, const char *path_or_uri, const char *format,
              int blocksize, unsigned flags)
{
  struct drive drv = { .readonly = !(flags & GK_DRIVE_READWRITE) };

  trace (h, "gk_add_drive \"%s\" format=%s blocksize=%d flags=%u",
         path_or_uri, format ? format : "(probe)", blocksize, flags);

  if (flags & ~GK_DRIVE_READWRITE) {
    error_errno (h, EINVAL, "add_drive: unknown flags 0x%x", flags);
    return -1;
  }
  if (blocksize != 0 && blocksize != 512 && blocksize != 4096) {
    /* libguestfs's words, which guestfish users see. */
    error_errno (h, EINVAL, "blocksize parameter is invalid");
    return -1;
  }
  if (format && (strcmp (format, "") == 0 ||
                 strspn (format, "abcdefghijklmnopqrstuvwxyz0123456789-_")
                 != strlen (format))) {
    error_errno (h, EINVAL, "add_drive: format ‘%s’ is not a valid format "
                 "name", format);
    return -1;
  }
  /* The appliance may exist unlaunched (autolaunch off). */
  if (h->appliance && gk_is_launched (h) == 1) {
    error_errno (h, EBUSY, "add_drive: drives cannot be added after the "
                 "appliance was launched");
    return -1;
  }

  if (gk_int_is_uri (path_or_uri)) {
    if (gk_int_parse_uri (h, path_or_uri, &drv) == -1)
      goto err;
  }
  else {
    /* A plain file must exist now: the error then names it clearly
     * (in libguestfs's words: "FILE: No such file or directory").
     */
    if (access (path_or_uri, R_OK) == -1) {
      perrorf (h, "%s", path_or_uri);
      goto err;
    }
    drv.path = strdup (path_or_uri);
    drv.protocol = strdup ("file");
    if (drv.path == NULL || drv.protocol == NULL) {
      perrorf (h, "add_drive");
      goto err;
    }
  }
  if (format && (drv.format = strdup (format)) == NULL) {
    perrorf (h, "add_drive");
    goto err;
  }
  drv.blocksize = blocksize;
  if (gk_int_add_drive_struct (h, &drv) == -1)
    goto err;
  return 0;

 err:
  gk_int_free_drive (&drv);
  return -1;
}

size_t
gk_nr_drives (gk_h *h)
{
  return h->drives.len;
}
