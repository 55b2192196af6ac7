#! -f nonexistent.gf
#@ stdin=none
# -f of a file that does not exist.
