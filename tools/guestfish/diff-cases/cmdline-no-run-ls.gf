#! ls /
#@ stdin=none
# A command that needs the appliance, from the command line, stdin
# /dev/null: the error is prefixed "*stdin*:0:".
