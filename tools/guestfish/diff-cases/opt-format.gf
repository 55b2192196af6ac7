#! --ro --format=raw -a $IMG_LINUX --format=qcow2 -a $IMG_QCOW2 --format -a $IMG_EXT4 echo formats accepted
#@ stdin=none
# --format=raw before -a, another format for the next -a, and a bare
# --format (back to auto-detection) before the last -a: all accepted.
