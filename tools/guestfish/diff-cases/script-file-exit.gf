#! -f script.gf
#@ script=script.gf
# "exit" in the middle of a -f script: the rest is not run, rc 0 (exit
# ignores its argument).
echo one
exit 3
echo not reached
