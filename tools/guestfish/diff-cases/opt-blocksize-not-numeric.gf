#! --ro --blocksize=abc -a $IMG_LINUX echo not reached
#@ stdin=none
# --blocksize that is not a number.
