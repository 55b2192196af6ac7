#! echo a : echo b c : echo 'd  e'
#@ stdin=none
# Commands on the command line, separated by standalone ":" arguments.
