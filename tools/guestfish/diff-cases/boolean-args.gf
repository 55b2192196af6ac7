#! 
# Boolean arguments: true/false, 1/0, yes/no, on/off, y/n, any case
# parse (and the command then fails for want of "run"); an invalid one
# is reported by the shell and stops the script.
-is-file /x followsymlinks:true
-is-file /x followsymlinks:false
-is-dir /x followsymlinks:1
-is-dir /x followsymlinks:0
-is-file /x followsymlinks:Y
-is-file /x followsymlinks:NO
-is-dir /x followsymlinks:on
-is-dir /x followsymlinks:OFF
-umount /x force:yes lazyunmount:n
-add /dev/null readonly:t
-add /dev/null readonly:F
is-file /x followsymlinks:maybe
echo not reached
