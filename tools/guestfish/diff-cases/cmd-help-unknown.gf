#! -h nosuchcmd
#@ stdin=none
# -h (--cmd-help) of an unknown command.
