/* libguestkit: the loadable modules (internal ABI).
 *
 * The parts of the library that need a heavy shared library are built as
 * modules in $(pkglibdir) (modules/Makefile.am) and dlopen'd on first use,
 * so that a program that never uses them (virt-df with the native engine)
 * never loads libguestfs, libvirt, librbd, librados, libiscsi or their
 * dependencies:
 *
 *   appliance.so    libguestfs   struct gk_appliance_module  (modules/appliance.c)
 *   domain.so       libvirt      struct gk_libvirt_module    (modules/domain.c)
 *   pool-rbd.so     librbd       struct pool_backend         (pools/rbd/rbd.c)
 *   pool-iscsi.so   libiscsi     struct pool_backend         (pools/iscsi/iscsi.c)
 *
 * Each module exports exactly one symbol, GK_MODULE_SYMBOL, pointing to
 * its struct.  The modules call back into libguestkit's internal helpers
 * (gk_int_*), exported for them in the GUESTKIT_PRIVATE version node.
 *
 * The ABI is internal: a module always comes from the same build as the
 * library.  Still, a stale module found in the module directory must not
 * crash the program, so every struct starts with its size and an ABI
 * version that the loader checks (as nbdkit does for its plugins).
 */
#ifndef GUESTKIT_MODULES_H
#define GUESTKIT_MODULES_H

#include <stddef.h>

#include "internal.h"

/* Bump when any module struct changes incompatibly. */
#define GK_MODULE_ABI_VERSION 2

#define GK_MODULE_SYMBOL "guestkit_module"

/* Every module struct starts with this header. */
struct gk_module_header {
  size_t size;                  /* sizeof the whole struct */
  int abi_version;              /* GK_MODULE_ABI_VERSION */
  const char *name;             /* "appliance", "domain", ... */
};

/* appliance.so: the libguestfs engine.  Each function is the body of the
 * gk_* function of the same name (lib/appliance.c traces and forwards).
 */
struct gk_appliance_module {
  struct gk_module_header hdr;
  int (*launch) (gk_h *h);
  int (*shutdown) (gk_h *h);
  void (*appliance_free) (gk_h *h);
  char **(*list_devices) (gk_h *h);
  char **(*list_filesystems) (gk_h *h);
  char *(*canonical_device_name) (gk_h *h, const char *device);
  int (*mount_ro) (gk_h *h, const char *mountable, const char *mountpoint);
  int (*umount_all) (gk_h *h);
  int (*statvfs) (gk_h *h, const char *path, struct gk_statvfs *ret);
  char **(*inspect_os) (gk_h *h);
  struct gk_os_info *(*inspect_get_info) (gk_h *h, const char *root);
};

/* domain.so: the libvirt API (lib/domain.c forwards). */
struct gk_libvirt_module {
  struct gk_module_header hdr;
  int (*add_domain) (gk_h *h, const char *name, const char *libvirt_uri,
                     unsigned flags);
  int (*list_domains) (gk_h *h, const char *libvirt_uri,
                       struct gk_domain **domains_rtn, size_t *n_rtn);
  char **(*domains_using_path) (gk_h *h, const char *path);
  /* virt-clone (lib/clone.c).  The inactive XML of a domain (secure
   * fields too); *shutoff_rtn says whether it is shut off.
   */
  char *(*get_domain_xml) (gk_h *h, const char *uri, const char *name,
                           bool *shutoff_rtn);
  /* The inactive XML of every defined domain, NULL-terminated. */
  char **(*all_domain_xml) (gk_h *h, const char *uri);
  /* 1 if a domain of this name exists, 0 if not, -1 on error. */
  int (*domain_exists) (gk_h *h, const char *uri, const char *name);
  int (*define_xml) (gk_h *h, const char *uri, const char *xml);
  /* Stop (if running) and undefine, keeping NVRAM and TPM state. */
  int (*undefine) (gk_h *h, const char *uri, const char *name);
  /* The hypervisor driver's name: "QEMU", "Test", ... */
  char *(*driver_type) (gk_h *h, const char *uri);
};

/* pool-rbd.so, pool-iscsi.so: a storage pool backend (pools/registry.c
 * loads it when a pool of that type is used).
 */
struct pool_backend;
struct gk_pool_module {
  struct gk_module_header hdr;
  const struct pool_backend *backend;
};

/* lib/module.c: the module's struct, loading it on first use (once per
 * process; a module is never unloaded).  On failure: NULL with the
 * handle's error set ("cannot load the NAME module PATH: ...").
 * struct_size is the size the caller expects of the struct.
 */
extern const void *gk_int_module_get (gk_h *h, const char *name,
                                      size_t struct_size);

/* Define a module's exported struct. */
#define GK_MODULE_HEADER(struct_type, module_name) \
  { .size = sizeof (struct_type), .abi_version = GK_MODULE_ABI_VERSION, \
    .name = (module_name) }

#endif /* GUESTKIT_MODULES_H */
