#! 
# "help" with two arguments.
help a b
echo not reached
