#! -a
#@ stdin=none
# -a without its argument.
