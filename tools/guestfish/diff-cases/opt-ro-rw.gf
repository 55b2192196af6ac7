#! --ro --rw echo not reached
#@ stdin=none
# --ro and --rw together: an error, rc 1.
