#!/usr/bin/env python3
# Compare guestkit's virt-clone --print-xml with virt-manager's, field by
# field: every element, attribute and text of both documents, in order.
#
# Random values are checked for their shape, not their value: the UUID,
# the MACs (52:54:00 for qemu), disk <serial> and <wwn>.  Where guestkit
# differs on purpose (virt-manager 4.1's gaps, ANCHORS section 2.2), the
# expected values are checked instead:
#   - sysinfo system uuid: ours is the new UUID (4.1.0 keeps the old one);
#   - serial/console log files: ours are renamed (4.1.0 keeps the old);
#   - disk <serial>/<wwn>: ours are new (4.1.0 keeps them).
# Usage: compare-clone-xml.py ORIGINAL.xml REFERENCE.xml OURS.xml
import re
import sys
import xml.etree.ElementTree as ET

orig_doc, ref_doc, our_doc = (ET.parse(f).getroot() for f in sys.argv[1:4])
errors = []
uuid_re = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
mac_re = re.compile(r"^52:54:00(:[0-9a-f]{2}){3}$")
orig_uuid = orig_doc.findtext("uuid")
our_uuid = our_doc.findtext("uuid")
orig_name = orig_doc.findtext("name")
our_name = our_doc.findtext("name")


def path_of(stack):
    return "/" + "/".join(stack)


def compare(ref, ours, orig, stack):
    here = stack + [ref.tag]
    where = path_of(here)
    if ref.tag != ours.tag:
        errors.append("%s: element <%s> vs <%s>" % (where, ref.tag, ours.tag))
        return
    for k in sorted(set(ref.attrib) | set(ours.attrib)):
        rv, ov = ref.attrib.get(k), ours.attrib.get(k)
        ctx = "%s/@%s" % (where, k)
        if ref.tag == "mac" and k == "address":
            if not mac_re.match(ov or "") or not mac_re.match(rv or ""):
                errors.append("%s: MAC %s / reference %s" % (ctx, ov, rv))
            continue
        if ref.tag == "source" and k == "path" and stack[-1] in ("serial", "console"):
            # Ours renames the log file: the old name replaced by the new.
            want = rv.replace(orig_name, our_name) if orig_name in rv.rsplit("/", 1)[-1] else None
            if want is None or ov != want:
                errors.append("%s: %s, expected %s (reference keeps %s)" % (ctx, ov, want, rv))
            continue
        if rv != ov:
            errors.append("%s: %r vs reference %r" % (ctx, ov, rv))
    rt, ot = (ref.text or "").strip(), (ours.text or "").strip()
    if ref.tag == "uuid" and stack == ["domain"]:
        if not uuid_re.match(ot) or ot == orig_uuid:
            errors.append("%s: new UUID %r" % (where, ot))
    elif ref.tag == "entry" and ref.attrib.get("name") == "uuid":
        if ot != our_uuid:
            errors.append("%s: sysinfo uuid %r, expected the new UUID %r (reference keeps %r)" % (where, ot, our_uuid, rt))
    elif ref.tag in ("serial", "wwn") and stack[-1] == "disk":
        if ot == rt or len(ot) != len(rt):
            errors.append("%s: %r not renewed (original %r)" % (where, ot, rt))
        if ref.tag == "wwn" and ot[:7] != rt[:7]:
            errors.append("%s: %r lost its NAA/OUI %r" % (where, ot, rt[:7]))
    elif rt != ot:
        errors.append("%s: text %r vs reference %r" % (where, ot, rt))
    rc, oc = list(ref), list(ours)
    if len(rc) != len(oc):
        errors.append("%s: %d children vs reference %d (%s vs %s)" % (
            where, len(oc), len(rc), [c.tag for c in oc], [c.tag for c in rc]))
        return
    for r, o in zip(rc, oc):
        compare(r, o, None, here)


compare(ref_doc, our_doc, orig_doc, [])
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
