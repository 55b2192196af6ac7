#! echo a : : echo b
#@ stdin=none
# An empty command between two ":" on the command line.
