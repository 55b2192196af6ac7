#! --ro -a $IMG_LINUX -a $IMG_EXT4 echo two disks : list-devices
#@ stdin=none
# -a twice: both are accepted; list-devices then needs launch.
