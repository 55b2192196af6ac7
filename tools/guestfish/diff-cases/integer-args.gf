#! 
# Integer arguments (no launch needed: a valid number gets as far as
# the missing "run"): decimal, hex, octal, size suffixes; not a number;
# a bad suffix; out of range for a 31-bit int; an overflow.
-head-n 10 /x
-head-n 0x10 /x
-head-n 010 /x
-head-n -3 /x
-tail-n 1k /x
-chmod 0755 /x
-chmod 12abc /x
-chmod 1x /x
-chown 4294967296 0 /x
-head-n 99999999999999999999 /x
-lvcreate lv vg 1M
-lvcreate-free lv vg abc
chmod 0x /x
echo not reached
