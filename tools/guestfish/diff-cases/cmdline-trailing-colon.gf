#! echo a :
#@ stdin=none
# A ":" after the last command is fine.
