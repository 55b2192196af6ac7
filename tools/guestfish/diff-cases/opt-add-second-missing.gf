#! --ro -a $IMG_LINUX -a /nonexistent/second.img echo not reached
#@ stdin=none
# Two -a, the second one missing: the access error for it.
