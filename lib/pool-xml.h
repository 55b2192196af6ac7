/* libguestkit: storage pool and volume definitions, and their XML.
 *
 * The XML is libvirt's (formatstorage): what `virsh pool-define` accepts
 * and `virsh pool-dumpxml` prints, for the types dir, logical (our lvm),
 * iscsi-direct (our iscsi; "iscsi" is read too) and rbd.  Parsing keeps
 * what guestkit uses and ignores the rest; formatting writes only what
 * libvirt accepts.
 */
#ifndef GUESTKIT_POOL_XML_H
#define GUESTKIT_POOL_XML_H

#include <stdint.h>
#include <stdbool.h>

#include "internal.h"
#include "pool-backend.h"

/* The initiator name of iscsi pools without <initiator><iqn name=...>. */
#define GK_ISCSI_DEFAULT_INITIATOR "iqn.2026-11.org.guestkit:initiator"

/* guestkit's own elements (libvirt ignores foreign namespaces): an lvm
 * pool's thin pool is <guestkit:thinpool name='TP'/> in <source>.
 */
#define GK_POOL_XML_NS "http://guestkit.org/schemas/storagepool/1.0"

struct pool_host {
  char *name;
  int port;                     /* 0 = default */
};

struct pool_def {
  char *type;                   /* dir, lvm, iscsi, rbd */
  char *name;
  char *uuid;
  char *target_path;
  char **source_devices;        /* NULL-terminated, may be empty */
  char *source_name;            /* VG name, rados pool */
  char *source_format;
  struct pool_host *hosts;
  size_t nr_hosts;
  char *auth_type;              /* chap, ceph */
  char *auth_username;
  char *auth_secret_usage;      /* where the secret is, see pool.c */
  char *auth_secret_uuid;       /* or a libvirt secret's UUID (kept, not read) */
  char *initiator_iqn;
  char *thin_pool;              /* lvm: thin pool LV in the VG, or NULL */
};

struct vol_def {
  char *name;
  uint64_t capacity;
  uint64_t allocation;
  bool has_allocation;          /* else: fully allocated (libvirt's rule) */
  char *format;                 /* NULL = the pool's default (raw) */
  char *backing_path;
  char *backing_format;
};

/* Our name of a pool type given by our name or libvirt's ("logical" is
 * "lvm"), or NULL if unknown.
 */
extern const char *gk_int_pool_type (const char *type);

extern struct pool_def *gk_int_parse_pool_xml (gk_h *h, const char *xml);
extern char *gk_int_format_pool_xml (gk_h *h, const struct pool_def *def,
                                     const struct gk_pool_info *info);
extern void gk_int_free_pool_def (struct pool_def *def);

extern struct vol_def *gk_int_parse_vol_xml (gk_h *h, const char *xml);
extern void gk_int_free_vol_def (struct vol_def *vol);

extern char *gk_int_format_vol_xml (gk_h *h, const struct vol_state *st,
                                    const char *pool_type);

/* "10G", "512 MiB", value + libvirt unit: bytes, or -1 with an error. */
extern int gk_int_parse_size (gk_h *h, const char *value, const char *unit,
                              uint64_t *ret);

/* Pool and volume names: refuses "/", "..", a leading "-", control
 * characters, empty names and names over 255 bytes.
 */
extern int gk_int_check_name (gk_h *h, const char *what, const char *name);

#endif /* GUESTKIT_POOL_XML_H */
