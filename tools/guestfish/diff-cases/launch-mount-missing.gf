#! --ro -a $IMG_EXT4 -m /dev/sda9
#@ launch
# -m of a partition that does not exist: the mount error, the hint with
# the filesystems found, rc 1; the script is not run.
echo not reached
