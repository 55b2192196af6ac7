#! -a /nonexistent/disk.img echo not reached
#@ stdin=none
# -a of a file that does not exist: the access error, rc 1.
