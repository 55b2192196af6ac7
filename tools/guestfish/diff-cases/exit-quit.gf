#! 
# "quit" in the middle of a script: the rest is not run, rc 0.
echo one
quit
echo not reached
