#! : echo a
#@ stdin=none
# A ":" before the first command is an empty command too.
