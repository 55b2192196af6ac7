#! --ro --blocksize=1234 -a $IMG_LINUX echo not reached
#@ stdin=none
# --blocksize with a value that is neither 512 nor 4096: the library's
# error when the drive is added.
