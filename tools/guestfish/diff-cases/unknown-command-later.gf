#! 
# An unknown command after another command: no hint, rc 1.
echo first
nosuchcmd arg
echo not reached
