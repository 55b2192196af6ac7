#! 
# An unknown command produced by "<!", as the first command: the hint,
# rc 1, the rest is not run.
<! echo nosuchcmd
echo not reached
