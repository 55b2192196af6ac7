#! 
# reopen gives a new handle: the drives added before are gone, so "run"
# then has nothing to launch; reopen takes no argument.
add /dev/null readonly:true
reopen
-run
reopen extra
echo not reached
