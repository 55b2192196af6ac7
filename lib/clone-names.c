/* libguestkit: the names virt-clone gives to clones.
 *
 * The same names as virt-manager's virt-clone (virtinst 4.1), so that
 * scripts that expect them keep working:
 *
 *   domain "foo"        -> "foo-clone", then "foo-clone1", "foo-clone2", ...
 *   domain "foo-clone3" -> "foo-clone4"
 *   disk   "/d/foo.img" (domain foo, new name bar)  -> "/d/bar.img"
 *   disk   "/d/data.qcow2"   -> "/d/data-clone.qcow2", then "-clone-1", ...
 *   disk   "/d/x.diskimage"  -> "/d/x.diskimage-clone" (an "extension"
 *                               longer than 7 characters is not one)
 *
 * The collision callback says whether a candidate is taken; it sees
 * every candidate, so names chosen earlier in the same clone count too
 * (virt-manager's does not, and gives two disks one path).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <regex.h>

#include "internal.h"
#include "clone.h"

char *
gk_int_clone_name (gk_h *h, const char *orig,
                   int (*taken) (void *opaque, const char *name),
                   void *opaque)
{
  CLEANUP_FREE char *base = strdup (orig);
  char *p, *cand = NULL;
  unsigned long n = 1;
  bool force_num = false;
  regex_t re;
  regmatch_t m[1];
  int t;

  if (base == NULL) {
    perrorf (h, "strdup");
    return NULL;
  }
  /* "-clone" followed by digits 1-9 at the end: count on from there. */
  if (regcomp (&re, "-clone[1-9]*$", REG_EXTENDED) != 0) {
    error (h, "regcomp failed");
    return NULL;
  }
  if (regexec (&re, base, 1, m, 0) == 0) {
    p = base + m[0].rm_so + strlen ("-clone");
    force_num = true;
    if (*p)
      n = strtoul (p, NULL, 10) + 1;
    base[m[0].rm_so] = '\0';
  }
  regfree (&re);

  for (; n < 100000 + 1; ++n) {
    free (cand);
    cand = NULL;
    if (!force_num) {
      if (asprintf (&cand, "%s-clone", base) == -1)
        goto oom;
      force_num = true;
      --n;                      /* the first numbered try is 1 */
    }
    else if (asprintf (&cand, "%s-clone%lu", base, n) == -1)
      goto oom;
    t = taken (opaque, cand);
    if (t == -1) {
      free (cand);
      return NULL;
    }
    if (t == 0)
      return cand;
  }
  free (cand);
  error_errno (h, EEXIST, "could not generate a name for the clone of ‘%s’",
               orig);
  return NULL;

 oom:
  perrorf (h, "asprintf");
  return NULL;
}

char *
gk_int_clone_path (gk_h *h, const char *orig_name, const char *new_name,
                   const char *orig_path,
                   int (*taken) (void *opaque, const char *path),
                   void *opaque)
{
  CLEANUP_FREE char *path = strdup (orig_path);
  CLEANUP_FREE char *clonebase = NULL;
  const char *suffix = "", *slash, *basename;
  char *dot, *cand = NULL;
  unsigned long n;
  int t;

  if (path == NULL) {
    perrorf (h, "strdup");
    return NULL;
  }
  /* The extension is what follows the last dot of the file name, if it
   * is at most 7 characters long.  (virt-manager looks for the last dot
   * of the whole path, so "/d.x/disk" becomes "/d-clone.x/disk", in a
   * directory that does not exist: not copied.)
   */
  dot = strrchr (path, '.');
  if (dot && strchr (dot, '/') == NULL && strlen (dot + 1) <= 7) {
    *dot = '\0';
    suffix = orig_path + (dot - path);
  }
  slash = strrchr (path, '/');
  basename = slash ? slash + 1 : path;
  if (orig_name && strcmp (basename, orig_name) == 0)
    t = asprintf (&clonebase, "%.*s%s", (int) (basename - path), path,
                  new_name);
  else
    t = asprintf (&clonebase, "%s-clone", path);
  if (t == -1)
    goto oom;

  for (n = 0; n < 100000; ++n) {
    if (n == 0)
      t = asprintf (&cand, "%s%s", clonebase, suffix);
    else
      t = asprintf (&cand, "%s-%lu%s", clonebase, n, suffix);
    if (t == -1)
      goto oom;
    t = taken (opaque, cand);
    if (t == -1) {
      free (cand);
      return NULL;
    }
    if (t == 0)
      return cand;
    free (cand);
    cand = NULL;
  }
  error_errno (h, EEXIST, "could not generate a path for the clone of ‘%s’",
               orig_path);
  return NULL;

 oom:
  perrorf (h, "asprintf");
  return NULL;
}
