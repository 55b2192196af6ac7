#! --ro -a $IMG_EXT4 -i
#@ launch
# -i on a disk with no operating system: the long message, rc 1; the
# script is not run.
echo not reached
