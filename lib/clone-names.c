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

/* virt-manager's generate_name: base + suffix, then base + sep + N +
 * suffix for N = start, start + 1, ... (only the numbered forms when
 * force_num), the first one not taken.
 */
static char *
generate (gk_h *h, const char *what, const char *base, const char *sep,
          const char *suffix, unsigned long start, bool force_num,
          int (*taken) (void *opaque, const char *name), void *opaque)
{
  unsigned long n;
  char *cand;
  int t;

  for (n = force_num ? start : start - 1; n < start + 100000; ++n) {
    if (n == start - 1 && !force_num)
      t = asprintf (&cand, "%s%s", base, suffix);
    else
      t = asprintf (&cand, "%s%s%lu%s", base, sep, n, suffix);
    if (t == -1) {
      perrorf (h, "asprintf");
      return NULL;
    }
    t = taken (opaque, cand);
    if (t == 0)
      return cand;
    free (cand);
    if (t == -1)
      return NULL;
  }
  error_errno (h, EEXIST, "could not generate a %s for the clone of ‘%s’",
               what, base);
  return NULL;
}

char *
gk_int_clone_name (gk_h *h, const char *orig,
                   int (*taken) (void *opaque, const char *name),
                   void *opaque)
{
  CLEANUP_FREE char *base = NULL;
  unsigned long start = 1;
  bool force_num = false;
  regex_t re;
  regmatch_t m[1];
  size_t len = strlen (orig);

  /* "-clone" followed by digits 1-9 at the end: count on from there. */
  if (regcomp (&re, "-clone[1-9]*$", REG_EXTENDED) != 0) {
    error (h, "regcomp failed");
    return NULL;
  }
  if (regexec (&re, orig, 1, m, 0) == 0) {
    const char *digits = orig + m[0].rm_so + strlen ("-clone");
    force_num = true;
    if (*digits)
      start = strtoul (digits, NULL, 10) + 1;
    len = m[0].rm_so;
  }
  regfree (&re);
  if (asprintf (&base, "%.*s-clone", (int) len, orig) == -1) {
    perrorf (h, "asprintf");
    return NULL;
  }
  return generate (h, "name", base, "", "", start, force_num, taken, opaque);
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
  char *dot;
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
  if (t == -1) {
    perrorf (h, "asprintf");
    return NULL;
  }
  return generate (h, "path", clonebase, "-", suffix, 1, false, taken,
                   opaque);
}
