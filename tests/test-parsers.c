/* Unit tests for the pure parsers: KVM detection, URIs, libvirt XML. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"

static char tmpdir[] = "/tmp/gk-test-XXXXXX";

static char *
write_file (const char *name, const char *content)
{
  char *path;
  FILE *fp;

  ck_assert_int_ne (asprintf (&path, "%s/%s", tmpdir, name), -1);
  fp = fopen (path, "w");
  ck_assert_ptr_nonnull (fp);
  fputs (content, fp);
  fclose (fp);
  return path;
}

START_TEST (test_kvm_usable)
{
  CLEANUP_FREE char *novirt = write_file ("cpuinfo-novirt",
    "processor\t: 0\nflags\t\t: fpu vme de pse hypervisor lahf_lm\n");
  CLEANUP_FREE char *vmx = write_file ("cpuinfo-vmx",
    "processor\t: 0\nflags\t\t: fpu vme vmx ept\n");
  CLEANUP_FREE char *svm = write_file ("cpuinfo-svm",
    "processor\t: 0\nflags\t\t: fpu svm npt\n");
  /* "vmxnet" is not "vmx": flags are whole words. */
  CLEANUP_FREE char *tricky = write_file ("cpuinfo-tricky",
    "processor\t: 0\nflags\t\t: fpu vmxnet xsvm\nvmx flags\t: ept\n");
  CLEANUP_FREE char *rw = write_file ("kvm-rw", "");
  CLEANUP_FREE char *reason = NULL;

  ck_assert (!gk_int_kvm_usable (novirt, rw, &reason));
  ck_assert_ptr_nonnull (strstr (reason, "no vmx or svm"));
  free (reason);
  ck_assert (gk_int_kvm_usable (vmx, rw, &reason));
  ck_assert_ptr_null (reason);
  ck_assert (gk_int_kvm_usable (svm, rw, &reason));
  ck_assert (!gk_int_kvm_usable (tricky, rw, &reason));
  free (reason);
  ck_assert (!gk_int_kvm_usable (vmx, "/nonexistent/kvm", &reason));
  ck_assert_ptr_nonnull (strstr (reason, "/nonexistent/kvm"));
  free (reason);
  ck_assert (!gk_int_kvm_usable ("/nonexistent/cpuinfo", rw, &reason));
  free (reason);
  reason = NULL;
}
END_TEST

static void
check_uri (const char *uri, const char *protocol, const char *path,
           const char *server, const char *user, const char *secret)
{
  gk_h *h = gk_create ();
  struct drive drv = { 0 };

  ck_assert (gk_int_is_uri (uri));
  ck_assert_int_eq (gk_int_parse_uri (h, uri, &drv), 0);
  ck_assert_str_eq (drv.protocol, protocol);
  ck_assert_str_eq (drv.path, path);
  if (server) {
    ck_assert_ptr_nonnull (drv.servers);
    ck_assert_str_eq (drv.servers[0], server);
    ck_assert_ptr_null (drv.servers[1]);
  }
  else
    ck_assert_ptr_null (drv.servers);
  if (user)
    ck_assert_str_eq (drv.username, user);
  else
    ck_assert_ptr_null (drv.username);
  if (secret)
    ck_assert_str_eq (drv.secret, secret);
  else
    ck_assert_ptr_null (drv.secret);
  gk_int_free_drive (&drv);
  gk_close (h);
}

START_TEST (test_uris)
{
  gk_h *h;
  struct drive drv = { 0 };

  check_uri ("nbd://example.com:10809/export", "nbd", "export",
             "example.com:10809", NULL, NULL);
  check_uri ("nbd+unix:///?socket=/tmp/nbd.sock", "nbd", "",
             "unix:/tmp/nbd.sock", NULL, NULL);
  check_uri ("rbd:///pool/disk", "rbd", "pool/disk", NULL, NULL, NULL);
  check_uri ("iscsi://127.0.0.1:3260/iqn.2026-01.test:t1/1", "iscsi",
             "iqn.2026-01.test:t1/1", "127.0.0.1:3260", NULL, NULL);
  check_uri ("ssh://joe:secret@host/var/disk.img", "ssh", "/var/disk.img",
             "host", "joe", "secret");
  check_uri ("http://host/a.img", "http", "/a.img", "host", NULL, NULL);

  ck_assert (!gk_int_is_uri ("disk.img"));
  ck_assert (!gk_int_is_uri ("./dir://x"));
  ck_assert (!gk_int_is_uri ("NBD://x"));
  ck_assert (!gk_int_is_uri ("://x"));

  h = gk_create ();
  gk_set_error_handler (h, NULL, NULL);
  ck_assert_int_eq (gk_int_parse_uri (h, "gopher://host/x", &drv), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "gopher"));
  gk_int_free_drive (&drv);
  ck_assert_int_eq (gk_int_parse_uri (h, "nbd://host/x?socket=/s", &drv), -1);
  gk_int_free_drive (&drv);
  gk_close (h);
}
END_TEST

static const char domain_xml[] =
  "<domain type='kvm'>\n"
  "  <name>demo</name>\n"
  "  <devices>\n"
  "    <disk type='file' device='disk'>\n"
  "      <driver name='qemu' type='qcow2'/>\n"
  "      <source file='/var/lib/images/demo.qcow2'/>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='block' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source dev='/dev/vg/demo-data'/>\n"
  "      <target dev='vdb' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='file' device='cdrom'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <target dev='sda' bus='sata'/>\n"
  "      <readonly/>\n"
  "    </disk>\n"
  "    <disk type='network' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source protocol='rbd' name='pool/image'>\n"
  "        <host name='mon1' port='6789'/>\n"
  "        <host name='mon2'/>\n"
  "      </source>\n"
  "      <target dev='vdc' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='file' device='cdrom'>\n"
  "      <source file='/isos/install.iso'/>\n"
  "      <target dev='sdb' bus='sata'/>\n"
  "      <readonly/>\n"
  "    </disk>\n"
  "    <disk type='volume' device='disk'>\n"
  "      <source pool='default' volume='v1'/>\n"
  "      <target dev='vdd' bus='virtio'/>\n"
  "    </disk>\n"
  "    <interface type='network'><source network='default'/></interface>\n"
  "  </devices>\n"
  "</domain>\n";

START_TEST (test_domain_xml)
{
  gk_h *h = gk_create ();
  drive_vector drives = empty_vector;
  size_t i;

  ck_assert_int_eq (gk_int_drives_from_domain_xml (h, domain_xml, false,
                                                   &drives), 5);
  ck_assert_str_eq (drives.ptr[0].path, "/var/lib/images/demo.qcow2");
  ck_assert_str_eq (drives.ptr[0].format, "qcow2");
  ck_assert_str_eq (drives.ptr[0].protocol, "file");
  ck_assert (!drives.ptr[0].readonly);
  ck_assert_str_eq (drives.ptr[1].path, "/dev/vg/demo-data");
  ck_assert_str_eq (drives.ptr[2].protocol, "rbd");
  ck_assert_str_eq (drives.ptr[2].path, "pool/image");
  ck_assert_str_eq (drives.ptr[2].servers[0], "mon1:6789");
  ck_assert_str_eq (drives.ptr[2].servers[1], "mon2");
  ck_assert_ptr_null (drives.ptr[2].servers[2]);
  /* The cdrom with media is added, read-only, format probed. */
  ck_assert_str_eq (drives.ptr[3].path, "/isos/install.iso");
  ck_assert (drives.ptr[3].readonly);
  ck_assert_ptr_null (drives.ptr[3].format);
  ck_assert_str_eq (drives.ptr[4].protocol, "volume");
  ck_assert_str_eq (drives.ptr[4].path, "default/v1");
  for (i = 0; i < drives.len; ++i)
    gk_int_free_drive (&drives.ptr[i]);
  drive_vector_reset (&drives);

  /* Malformed XML: one clear error naming the problem. */
  gk_set_error_handler (h, NULL, NULL);
  ck_assert_int_eq (gk_int_drives_from_domain_xml (h, "<domain><devices>",
                                                   true, &drives), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "cannot parse"));
  ck_assert_ptr_null (strchr (gk_last_error (h), '\n'));
  ck_assert_uint_eq (drives.len, 0);
  ck_assert_int_eq (gk_int_drives_from_domain_xml
                    (h, "<domain><devices><disk type='network'>"
                     "<source name='x'/></disk></devices></domain>",
                     true, &drives), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "protocol"));
  ck_assert_uint_eq (drives.len, 0);
  gk_close (h);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("parsers");
  TCase *tc = tcase_create ("core");
  int failed;

  if (mkdtemp (tmpdir) == NULL) {
    perror ("mkdtemp");
    return EXIT_FAILURE;
  }
  tcase_add_test (tc, test_kvm_usable);
  tcase_add_test (tc, test_uris);
  tcase_add_test (tc, test_domain_xml);
  suite_add_tcase (s, tc);
  failed = run_suite (s);
  {
    char cmd[64];
    snprintf (cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system (cmd) != 0)
      fprintf (stderr, "could not remove %s\n", tmpdir);
  }
  return failed;
}
