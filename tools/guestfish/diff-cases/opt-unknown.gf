#! --no-such-option echo not reached
#@ stdin=none
# An unknown long option: getopt's message and the --help hint.
