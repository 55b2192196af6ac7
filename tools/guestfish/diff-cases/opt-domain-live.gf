#! -c test:///default -d test echo not reached
#@ stdin=none
# -d of a running domain without --ro: refused.
