/* libguestkit: KVM or TCG?
 *
 * libguestfs's default (accel=kvm:tcg) trusts that /dev/kvm works when it
 * exists.  On nested clouds it often exists without working virtualization
 * (no vmx/svm flag reaches the guest CPU), and qemu then hangs at boot.  KVM
 * is used only when the CPU shows vmx or svm AND /dev/kvm opens read-write;
 * otherwise the appliance runs under TCG.  GUESTKIT_ACCEL=kvm|tcg or
 * gk_set_accel overrides the decision.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>

#include "internal.h"

/* Does a "flags" line of /proc/cpuinfo list vmx or svm as a whole word? */
static bool
cpu_has_virt_flag (FILE *fp)
{
  CLEANUP_FREE char *line = NULL;
  size_t n = 0;

  while (getline (&line, &n, fp) != -1) {
    char *p, *tok, *save = NULL;

    if (strncmp (line, "flags", 5) != 0)
      continue;
    p = strchr (line, ':');
    if (p == NULL)
      continue;
    for (tok = strtok_r (p + 1, " \t\n", &save); tok != NULL;
         tok = strtok_r (NULL, " \t\n", &save)) {
      if (strcmp (tok, "vmx") == 0 || strcmp (tok, "svm") == 0)
        return true;
    }
  }
  return false;
}

bool
gk_int_kvm_usable (const char *cpuinfo_path, const char *kvm_path,
                   char **reason)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  int fd;

  *reason = NULL;
  fp = fopen (cpuinfo_path, "r");
  if (fp == NULL) {
    if (asprintf (reason, "cannot read %s: %m", cpuinfo_path) == -1)
      *reason = NULL;
    return false;
  }
  if (!cpu_has_virt_flag (fp)) {
    if (asprintf (reason, "the CPU has no vmx or svm flag in %s "
                  "(nested virtualization is not available)",
                  cpuinfo_path) == -1)
      *reason = NULL;
    return false;
  }
  fd = open (kvm_path, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    if (asprintf (reason, "cannot open %s read-write: %m", kvm_path) == -1)
      *reason = NULL;
    return false;
  }
  close (fd);
  return true;
}

/* Resolve GK_ACCEL_AUTO into KVM or TCG for this handle. */
int
gk_int_choose_accel (gk_h *h)
{
  CLEANUP_FREE char *reason = NULL;

  if (h->accel != GK_ACCEL_AUTO)
    return h->accel;
  if (gk_int_kvm_usable ("/proc/cpuinfo", "/dev/kvm", &reason)) {
    debug (h, "KVM is usable: the appliance will use KVM");
    return GK_ACCEL_KVM;
  }
  debug (h, "KVM is not usable (%s): the appliance will use TCG",
         reason ? reason : "unknown reason");
  return GK_ACCEL_TCG;
}

int
gk_set_accel (gk_h *h, int accel)
{
  trace (h, "gk_set_accel %d", accel);
  if (accel != GK_ACCEL_AUTO && accel != GK_ACCEL_KVM &&
      accel != GK_ACCEL_TCG) {
    error_errno (h, EINVAL, "set_accel: %d is not GK_ACCEL_AUTO, "
                 "GK_ACCEL_KVM or GK_ACCEL_TCG", accel);
    return -1;
  }
  h->accel = accel;
  return 0;
}

int
gk_get_accel (gk_h *h)
{
  return h->accel;
}
