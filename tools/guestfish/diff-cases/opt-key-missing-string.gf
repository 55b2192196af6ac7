#! --key /dev/sda1:key echo not reached
#@ stdin=none
# --key ID:key without the key string.
