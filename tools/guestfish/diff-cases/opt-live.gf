#! --live echo not reached
#@ stdin=none
# --live (hidden): removed in libguestfs 1.48.
