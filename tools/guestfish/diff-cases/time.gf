#! 
#@ filter=elapsed
# time CMD: the command's output, then the elapsed time (its number is
# normalised: it changes from run to run); time of a failing command with
# "-"; time with no command.
time echo hi
time echo "a b" c
-time nosuchcmd
time
echo not reached
