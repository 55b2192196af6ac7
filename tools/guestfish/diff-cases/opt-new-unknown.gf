#! -N nosuchtype
#@ stdin=none
# -N with an unknown prepared-disk type.
