#! --ro -a $IMG_LINUX --format=raw echo not reached
#@ stdin=none
# --format after the last -a: an error, rc 1.
