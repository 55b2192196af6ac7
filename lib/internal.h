/* libguestkit internals: the handle and helpers shared by the library's
 * files.  Nothing here is exported (see guestkit.syms).
 */
#ifndef GUESTKIT_INTERNAL_H
#define GUESTKIT_INTERNAL_H

#include <stdbool.h>
#include <stdarg.h>
#include <signal.h>

#include "guestkit.h"
#include "vector.h"
#include "cleanups.h"

/* A drive as the engines need it. */
struct drive {
  char *path;            /* file path, or the path part of a URI */
  char *protocol;        /* "file", "nbd", "iscsi", "rbd", ... */
  char **servers;        /* NULL-terminated, NULL for files */
  char *username;
  char *secret;
  char *format;          /* NULL = probe */
  int blocksize;         /* 0 = default */
  bool readonly;
};
DEFINE_VECTOR_TYPE (drive_vector, struct drive);

struct error_handler {
  gk_error_handler_cb cb;
  void *opaque;
};
DEFINE_VECTOR_TYPE (error_handler_vector, struct error_handler);

struct appliance;                /* command.c: run argv (no shell).  0 on exit status 0, else -1 with the
 * command's last stderr line in the error.  *stdout_rtn (if not NULL)
 * receives its standard output.
 */
extern int gk_int_run (gk_h *h, const char *const *argv, char **stdout_rtn);

/* appliance.c */

struct gk_h {
  /* Errors: the last one, and the handler stack (the top is in use). */
  char *last_error;
  int last_errno;
  gk_error_handler_cb error_cb;
  void *error_cb_opaque;
  error_handler_vector error_stack;

  /* Debugging. */
  int verbose;
  int trace;
  gk_log_cb log_cb;
  void *log_cb_opaque;

  drive_vector drives;
  int engine;                    /* GK_ENGINE_* */

  /* Appliance settings and state. */
  int accel;                     /* GK_ACCEL_* */
  int launch_timeout;            /* seconds */
  int autolaunch;                /* calls launch the appliance (default 1) */
  int autosync;                  /* sync disks at shutdown (default 1) */
  int pgroup;                    /* appliance in its own process group */
  gk_progress_cb progress_cb;    /* appliance operations' progress */
  void *progress_cb_opaque;
  struct appliance *appliance;   /* NULL until first needed */

  char *state_dir;               /* pools: NULL until first needed */
  struct gk_mount_local *ml;     /* mount-local: NULL until first used */
  struct ml_native *nfiles;      /* native gk_mount_ro mounts (files-native.c) */

  /* gk_user_cancel (from a signal handler): fail the current long
   * operation, which then undoes what it did.
   */
  volatile sig_atomic_t cancelled;
};

/* errors.c.  error() sets the handle's error and calls its handler once;
 * perrorf() does the same with ": strerror(errno)" appended and errno kept.
 */
extern void gk_int_error_errno (gk_h *h, int errnum, const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
extern void gk_int_perrorf (gk_h *h, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
#define error(h, fs, ...) gk_int_error_errno ((h), 0, (fs), ##__VA_ARGS__)
#define error_errno(h, e, fs, ...) \
  gk_int_error_errno ((h), (e), (fs), ##__VA_ARGS__)
#define perrorf gk_int_perrorf
extern void gk_int_set_create_error (const char *msg);

/* handle.c: debug and trace messages (printed only when enabled). */
extern void gk_int_debug (gk_h *h, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void gk_int_trace (gk_h *h, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void gk_int_warning (gk_h *h, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
#define debug(h, ...) gk_int_debug ((h), __VA_ARGS__)
#define trace(h, ...) gk_int_trace ((h), __VA_ARGS__)
#define warning(h, ...) gk_int_warning ((h), __VA_ARGS__)

/* files-native.c: the file-level API without the appliance.  mount: 0
 * mounted natively, 1 not (use the appliance), -1 error.
 */
struct ml_native;
extern int gk_int_files_native_mount (gk_h *h, const char *mountable,
                                      const char *mountpoint);
extern int gk_int_files_native_to_appliance (gk_h *h,
                                             int (*mount_ro) (gk_h *,
                                                              const char *,
                                                              const char *));
extern void gk_int_files_native_free (gk_h *h);
extern int gk_int_files_native_stat (gk_h *h, const char *path,
                                     struct gk_stat *ret, unsigned flags);
extern int gk_int_files_native_is (gk_h *h, const char *path, unsigned flags,
                                   mode_t type);
extern char *gk_int_files_native_readlink (gk_h *h, const char *path);
extern int gk_int_files_native_readdir (gk_h *h, const char *dir,
                                        unsigned flags,
                                        struct gk_dirent **ents_rtn,
                                        size_t *n_rtn);
extern char **gk_int_files_native_ls (gk_h *h, const char *dir);
extern int gk_int_files_native_download (gk_h *h, const char *path, int fd);
extern char *gk_int_files_native_read_file (gk_h *h, const char *path,
                                            size_t *size_rtn);

/* mount-local.c */
extern void gk_int_mount_local_free (gk_h *h);

/* drives.c */
extern void gk_int_free_drive (struct drive *drv);
extern int gk_int_add_drive_struct (gk_h *h, struct drive *drv);
extern int gk_int_parse_uri (gk_h *h, const char *uri, struct drive *drv);
extern int gk_int_is_uri (const char *arg);

/* domain.c: parse a libvirt domain's XML into drives (pure: no libvirt
 * connection).  Returns the number of drives appended to *drives, or -1.
 */
extern int gk_int_drives_from_domain_xml (gk_h *h, const char *xml,
                                          bool readonly,
                                          drive_vector *drives);

/* domain.c: libvirt domains using a disk path (for warnings), or NULL. */
extern char **gk_int_domains_using_path (gk_h *h, const char *path);

/* accel.c: is KVM usable?  Pure function over the two paths, so that
 * tests can point it at fake files.
 */
extern bool gk_int_kvm_usable (const char *cpuinfo_path, const char *kvm_path,
                               char **reason);
extern int gk_int_choose_accel (gk_h *h);

/* command.c: run argv (no shell).  0 on exit status 0, else -1 with the
 * command's last stderr line in the error.  *stdout_rtn (if not NULL)
 * receives its standard output.
 */
extern int gk_int_run (gk_h *h, const char *const *argv, char **stdout_rtn);

/* df-native.c: gk_df by the native engine.  0, -1, or GK_NATIVE_UNSURE
 * (= -2, lib/native/reader.h) with the reason in *why_rtn: then the
 * appliance must read the whole guest.
 */
extern int gk_int_df_native (gk_h *h, struct gk_fs_usage **usage_rtn,
                             size_t *n_rtn, char **why_rtn);
#ifndef GK_NATIVE_UNSURE
#define GK_NATIVE_UNSURE (-2)
#endif

/* appliance.c */
extern void gk_int_appliance_free (gk_h *h);
/* Async-signal-safe (gk_user_cancel): cancel the appliance's file
 * transfer in progress, if the module is loaded and an appliance exists.
 */
extern void gk_int_appliance_cancel (gk_h *h);

/* pool.c: a random (version 4) UUID string. */
extern char *gk_int_random_uuid (gk_h *h);

#endif /* GUESTKIT_INTERNAL_H */
