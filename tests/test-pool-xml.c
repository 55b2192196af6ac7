/* Unit tests for pool and volume XML, sizes and names (lib/pool-xml.c). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"
#include "pool-xml.h"

static gk_h *h;

static void
setup (void)
{
  h = gk_create ();
  gk_set_error_handler (h, NULL, NULL);
}

static void
teardown (void)
{
  gk_close (h);
}

/* What virsh pool-dumpxml prints for an rbd pool (libvirt 9.0). */
static const char rbd_xml[] =
  "<pool type='rbd'>\n"
  "  <name>ceph</name>\n"
  "  <uuid>a5b1c9b2-5f4b-4c53-9ba8-7a2b0e4a2f11</uuid>\n"
  "  <capacity unit='bytes'>0</capacity>\n"
  "  <allocation unit='bytes'>0</allocation>\n"
  "  <available unit='bytes'>0</available>\n"
  "  <source>\n"
  "    <host name='127.0.0.1' port='6789'/>\n"
  "    <host name='mon2'/>\n"
  "    <name>rbdpool</name>\n"
  "    <auth type='ceph' username='admin'>\n"
  "      <secret usage='file:/etc/ceph/keyring'/>\n"
  "    </auth>\n"
  "  </source>\n"
  "</pool>\n";

START_TEST (test_parse_format_roundtrip)
{
  struct pool_def *def = gk_int_parse_pool_xml (h, rbd_xml), *again;
  char *xml;

  ck_assert_ptr_nonnull (def);
  ck_assert_str_eq (def->type, "rbd");
  ck_assert_str_eq (def->name, "ceph");
  ck_assert_uint_eq (def->nr_hosts, 2);
  ck_assert_str_eq (def->hosts[0].name, "127.0.0.1");
  ck_assert_int_eq (def->hosts[0].port, 6789);
  ck_assert_int_eq (def->hosts[1].port, 0);
  ck_assert_str_eq (def->source_name, "rbdpool");
  ck_assert_str_eq (def->auth_type, "ceph");
  ck_assert_str_eq (def->auth_username, "admin");
  ck_assert_str_eq (def->auth_secret_usage, "file:/etc/ceph/keyring");

  xml = gk_int_format_pool_xml (h, def, NULL);
  ck_assert_ptr_nonnull (xml);
  again = gk_int_parse_pool_xml (h, xml);
  ck_assert_ptr_nonnull (again);
  ck_assert_str_eq (again->uuid, def->uuid);
  ck_assert_str_eq (again->hosts[1].name, "mon2");
  ck_assert_str_eq (again->source_name, "rbdpool");
  free (xml);
  gk_int_free_pool_def (again);
  gk_int_free_pool_def (def);
}
END_TEST

START_TEST (test_types)
{
  struct pool_def *def;
  char *xml;

  def = gk_int_parse_pool_xml (h, "<pool type='logical'><name>vg</name>"
                               "<source><device path='/dev/sdb1'/>"
                               "<name>vg0</name><format type='lvm2'/>"
                               "</source><target><path>/dev/vg0</path>"
                               "</target></pool>");
  ck_assert_ptr_nonnull (def);
  ck_assert_str_eq (def->type, "lvm");
  ck_assert_str_eq (def->source_devices[0], "/dev/sdb1");
  xml = gk_int_format_pool_xml (h, def, NULL);
  ck_assert_ptr_nonnull (strstr (xml, "type=\"logical\""));
  free (xml);
  gk_int_free_pool_def (def);

  def = gk_int_parse_pool_xml (h, "<pool type='iscsi-direct'><name>i</name>"
                               "<source><host name='127.0.0.1'/>"
                               "<device path='iqn.2026-01.test:t'/>"
                               "<initiator><iqn name='iqn.2026-01.test:i'/>"
                               "</initiator></source></pool>");
  ck_assert_ptr_nonnull (def);
  ck_assert_str_eq (def->type, "iscsi");
  ck_assert_str_eq (def->initiator_iqn, "iqn.2026-01.test:i");
  gk_int_free_pool_def (def);

  ck_assert_ptr_null (gk_int_parse_pool_xml (h, "<pool type='zfs'><name>z"
                                             "</name></pool>"));
  ck_assert_int_eq (gk_last_errno (h), ENOTSUP);
  ck_assert_ptr_null (gk_int_parse_pool_xml (h, "<pool type='dir'><name>x"
                                             "</name><source><host port='99999'"
                                             " name='h'/></source></pool>"));
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "port"));
}
END_TEST

/* What libvirt 9.0 disagreed with (tools/guestkit/test-guestkit-virsh-types.sh). */
START_TEST (test_libvirt_interop)
{
  struct pool_def *def;
  char *xml;

  /* <secret uuid=...> (virsh --secret-uuid) stays a uuid, not a usage. */
  def = gk_int_parse_pool_xml (h, "<pool type='rbd'><name>r</name><source>"
                               "<host name='m1' port='6789'/><name>p</name>"
                               "<auth type='ceph' username='admin'><secret "
                               "uuid='6b0f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b'/>"
                               "</auth></source></pool>");
  ck_assert_ptr_nonnull (def);
  ck_assert_ptr_null (def->auth_secret_usage);
  ck_assert_str_eq (def->auth_secret_uuid,
                    "6b0f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b");
  xml = gk_int_format_pool_xml (h, def, NULL);
  ck_assert_ptr_nonnull (strstr (xml, "<secret uuid=\"6b0f3c1e-2a4d-4e5f-"
                                 "8a9b-0c1d2e3f4a5b\"/>"));
  ck_assert_ptr_null (strstr (xml, "usage="));
  free (xml);
  gk_int_free_pool_def (def);

  /* libvirt's "iscsi" pool has a <target>; iscsi-direct must not. */
  def = gk_int_parse_pool_xml (h, "<pool type='iscsi'><name>i</name><source>"
                               "<host name='h'/><device path='iqn.x:t'/>"
                               "</source><target><path>/dev/disk/by-path"
                               "</path></target></pool>");
  ck_assert_ptr_nonnull (def);
  xml = gk_int_format_pool_xml (h, def, NULL);
  ck_assert_ptr_nonnull (strstr (xml, "type=\"iscsi-direct\""));
  ck_assert_ptr_null (strstr (xml, "<target>"));
  free (xml);
  gk_int_free_pool_def (def);

  /* Type names: ours and libvirt's. */
  ck_assert_str_eq (gk_int_pool_type ("logical"), "lvm");
  ck_assert_str_eq (gk_int_pool_type ("iscsi-direct"), "iscsi");
  ck_assert_str_eq (gk_int_pool_type ("rbd"), "rbd");
  ck_assert_ptr_null (gk_int_pool_type ("zfs"));
}
END_TEST

/* An lvm pool with guestkit's thin pool element keeps it through a round
 * trip; without the namespace the element is not ours and is ignored.
 */
START_TEST (test_thin_pool)
{
  struct pool_def *def, *again;
  char *xml;

  def = gk_int_parse_pool_xml (h,
    "<pool type='logical'><name>thin</name><source>"
    "<device path='/dev/vdb'/><name>vg0</name><format type='lvm2'/>"
    "<guestkit:thinpool xmlns:guestkit='" GK_POOL_XML_NS "' name='tp'/>"
    "</source><target><path>/dev/vg0</path></target></pool>");
  ck_assert_ptr_nonnull (def);
  ck_assert_str_eq (def->thin_pool, "tp");
  xml = gk_int_format_pool_xml (h, def, NULL);
  ck_assert_ptr_nonnull (xml);
  ck_assert_ptr_nonnull (strstr (xml, "<guestkit:thinpool xmlns:guestkit=\""
                                 GK_POOL_XML_NS "\" name=\"tp\"/>"));
  again = gk_int_parse_pool_xml (h, xml);
  ck_assert_ptr_nonnull (again);
  ck_assert_str_eq (again->thin_pool, "tp");
  ck_assert_str_eq (again->source_name, "vg0");
  free (xml);
  gk_int_free_pool_def (again);
  gk_int_free_pool_def (def);

  def = gk_int_parse_pool_xml (h,
    "<pool type='logical'><name>thin</name><source>"
    "<thinpool name='tp'/><name>vg0</name></source></pool>");
  ck_assert_ptr_nonnull (def);
  ck_assert_ptr_null (def->thin_pool);
  gk_int_free_pool_def (def);
}
END_TEST

START_TEST (test_sizes)
{
  uint64_t v;

  ck_assert_int_eq (gk_int_parse_size (h, "10", "GiB", &v), 0);
  ck_assert_uint_eq (v, 10ULL << 30);
  ck_assert_int_eq (gk_int_parse_size (h, "10", "GB", &v), 0);
  ck_assert_uint_eq (v, 10000000000ULL);
  ck_assert_int_eq (gk_int_parse_size (h, "512", NULL, &v), 0);
  ck_assert_uint_eq (v, 512);
  ck_assert_int_eq (gk_int_parse_size (h, "3", "bytes", &v), 0);
  ck_assert_uint_eq (v, 3);
  ck_assert_int_eq (gk_int_parse_size (h, "2M", NULL, &v), 0);
  ck_assert_uint_eq (v, 2ULL << 20);
  ck_assert_int_eq (gk_int_parse_size (h, "x", NULL, &v), -1);
  ck_assert_int_eq (gk_int_parse_size (h, "-1", NULL, &v), -1);
  ck_assert_int_eq (gk_int_parse_size (h, "1", "furlong", &v), -1);
  ck_assert_int_eq (gk_int_parse_size (h, "99999999999", "EiB", &v), -1);
  ck_assert_int_eq (gk_last_errno (h), ERANGE);
}
END_TEST

START_TEST (test_names)
{
  char long_name[300];

  ck_assert_int_eq (gk_int_check_name (h, "volume", "disk.img"), 0);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "a b-c_d.qcow2"), 0);
  ck_assert_int_eq (gk_int_check_name (h, "volume", ""), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "."), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", ".."), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "a/b"), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "x..y"), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "-rf"), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "a\nb"), -1);
  ck_assert_int_eq (gk_int_check_name (h, "volume", "a\x7f"), -1);
  memset (long_name, 'x', 256);
  long_name[256] = '\0';
  ck_assert_int_eq (gk_int_check_name (h, "volume", long_name), -1);
  long_name[255] = '\0';
  ck_assert_int_eq (gk_int_check_name (h, "volume", long_name), 0);
}
END_TEST

START_TEST (test_vol_xml)
{
  struct vol_def *v;

  v = gk_int_parse_vol_xml (h, "<volume><name>v.qcow2</name>"
                            "<capacity unit='G'>2</capacity>"
                            "<allocation>0</allocation>"
                            "<target><format type='qcow2'/></target>"
                            "<backingStore><path>/b.img</path>"
                            "<format type='raw'/></backingStore></volume>");
  ck_assert_ptr_nonnull (v);
  ck_assert_uint_eq (v->capacity, 2ULL << 30);
  ck_assert (v->has_allocation);
  ck_assert_str_eq (v->format, "qcow2");
  ck_assert_str_eq (v->backing_path, "/b.img");
  ck_assert_str_eq (v->backing_format, "raw");
  gk_int_free_vol_def (v);

  v = gk_int_parse_vol_xml (h, "<volume><name>v</name><capacity>1"
                            "</capacity></volume>");
  ck_assert (!v->has_allocation);
  gk_int_free_vol_def (v);
  ck_assert_ptr_null (gk_int_parse_vol_xml (h, "<volume><name>a/b</name>"
                                            "<capacity>1</capacity>"
                                            "</volume>"));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("pool-xml");
  TCase *tc = tcase_create ("core");
  int failed;

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_parse_format_roundtrip);
  tcase_add_test (tc, test_types);
  tcase_add_test (tc, test_libvirt_interop);
  tcase_add_test (tc, test_thin_pool);
  tcase_add_test (tc, test_sizes);
  tcase_add_test (tc, test_names);
  tcase_add_test (tc, test_vol_xml);
  suite_add_tcase (s, tc);
  failed = run_suite (s);
  return failed;
}
