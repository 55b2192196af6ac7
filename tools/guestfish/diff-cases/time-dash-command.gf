#! 
# "time -cmd": the "-" is not a prefix there: "-cat" is an unknown
# command.
time -cat
echo not reached
