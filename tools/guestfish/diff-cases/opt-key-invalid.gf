#! --key /dev/sda1:bogus:x echo not reached
#@ stdin=none
# --key with an unknown TYPE.
