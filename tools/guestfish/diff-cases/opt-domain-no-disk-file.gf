#! -c test:///default -d test --ro echo not reached
#@ stdin=none
# -d of the test driver's domain, read-only (--ro after -d still
# counts): its disk /guest/diskimage1 does not exist.
