#! 
# An unknown command as the first command: the 3-line hint, rc 1.
nosuchcmd
echo not reached
