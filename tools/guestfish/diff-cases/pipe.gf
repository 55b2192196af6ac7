#! 
# "cmd | host-cmd": the output goes through the host command; "|"
# without a space before it is an argument; a failing pipe command is
# not an error (no --pipe-error); a pipe to nothing.
echo foo | tr a-z A-Z
echo foo|tr a-z A-Z
echo a b c | wc -w
echo foo | false
echo foo |
echo after
