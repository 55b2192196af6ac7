#! --ro -c test:///nonexistent-dir/x.xml -d foo echo not reached
#@ stdin=none
# -c with a test-driver URI whose XML file does not exist: libxml2's and
# libvirt's own messages, then libguestfs's error.
