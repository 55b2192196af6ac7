#! --ro -c test:///default -d nosuchdom echo not reached
#@ stdin=none
# -d of a domain that libvirt's test driver does not have.
