#! echo a : -cat : echo b
#@ stdin=none
# Without "--", getopt permutes: "-cat" is taken as "-c at" (--connect),
# leaving an empty command between two ":".
