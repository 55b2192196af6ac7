#! 
# "help" with no argument (the short introduction), then "help" of an
# unknown command (an error, rc 1).
help
help nosuchcmd
echo not reached
