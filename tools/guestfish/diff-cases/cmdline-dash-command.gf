#! -- echo a : -cat : -nosuchcmd : echo b
#@ stdin=none
# "-cmd" on the command line (after "--", so that getopt leaves it
# alone): the failing commands do not stop the others, rc 0.
