/* libguestkit: loading the modules (see modules.h for why they exist).
 *
 * A module is looked for as NAME.so in each directory of the
 * colon-separated list $GUESTKIT_MODULE_DIR (the build tree's ./run sets
 * it), else in the directory the modules were installed in.  It is opened
 * with RTLD_NOW, so that a missing dependency is an error here rather than
 * a crash later, and RTLD_LOCAL, so that its libraries' symbols do not
 * leak into the program.
 *
 * A loaded module is never dlclose'd: other handles or threads may still
 * hold its function pointers, and valgrind needs its symbols to report
 * leaks at exit.  A failed load is not remembered, so each use reports
 * the same clear error.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <dlfcn.h>
#include <pthread.h>

#include "internal.h"
#include "modules.h"

#ifndef GUESTKIT_MODULE_DIR
#error "GUESTKIT_MODULE_DIR must be defined (lib/Makefile.am)"
#endif

struct loaded {
  char *name;
  const void *module;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded *loaded;
static size_t nr_loaded;

/* Find NAME.so in the module path: a malloc'd path, or NULL (not found,
 * *dirs_rtn says where it was looked for).
 */
static char *
find_module (const char *name, const char **dirs_rtn)
{
  const char *dirs = getenv ("GUESTKIT_MODULE_DIR");
  const char *p, *end;

  if (dirs == NULL || *dirs == '\0')
    dirs = GUESTKIT_MODULE_DIR;
  *dirs_rtn = dirs;
  for (p = dirs; *p; p = *end ? end + 1 : end) {
    char *path;

    end = strchr (p, ':');
    if (end == NULL)
      end = p + strlen (p);
    if (end == p)
      continue;
    if (asprintf (&path, "%.*s/%s.so", (int) (end - p), p, name) == -1)
      return NULL;
    if (access (path, F_OK) == 0)
      return path;
    free (path);
  }
  return NULL;
}

static const void *
load (gk_h *h, const char *name, size_t struct_size)
{
  CLEANUP_FREE char *path = NULL;
  const char *dirs;
  const struct gk_module_header *hdr;
  void *dl;

  path = find_module (name, &dirs);
  if (path == NULL) {
    error_errno (h, ENOENT, "cannot load the %s module: %s.so is not in %s "
                 "(set GUESTKIT_MODULE_DIR to the modules' directory)",
                 name, name, dirs);
    return NULL;
  }
  debug (h, "loading the %s module %s", name, path);
  dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    error_errno (h, ELIBACC, "cannot load the %s module %s: %s",
                 name, path, dlerror ());
    return NULL;
  }
  hdr = dlsym (dl, GK_MODULE_SYMBOL);
  if (hdr == NULL || hdr->abi_version != GK_MODULE_ABI_VERSION ||
      hdr->size < struct_size || hdr->name == NULL ||
      strcmp (hdr->name, name) != 0) {
    error_errno (h, ELIBBAD, "cannot load the %s module %s: it is not the "
                 "%s module of this build of guestkit", name, path, name);
    /* Nothing of it was used: unloading is safe. */
    dlclose (dl);
    return NULL;
  }
  return hdr;
}

const void *
gk_int_module_get (gk_h *h, const char *name, size_t struct_size)
{
  const void *module = NULL;
  struct loaded *p;
  size_t i;

  pthread_mutex_lock (&lock);
  for (i = 0; i < nr_loaded; ++i)
    if (strcmp (loaded[i].name, name) == 0) {
      module = loaded[i].module;
      goto out;
    }
  module = load (h, name, struct_size);
  if (module == NULL)
    goto out;
  p = realloc (loaded, (nr_loaded + 1) * sizeof *loaded);
  if (p == NULL || (p[nr_loaded].name = strdup (name)) == NULL) {
    /* Still usable this time; it will be found again next time. */
    if (p)
      loaded = p;
    goto out;
  }
  loaded = p;
  p[nr_loaded++].module = module;
 out:
  pthread_mutex_unlock (&lock);
  return module;
}
