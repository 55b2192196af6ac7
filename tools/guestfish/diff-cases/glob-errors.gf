#! 
# glob before run: a path and a device pattern need the appliance (the
# error, then glob's own line); glob without a command; a glob whose
# arguments are not paths runs the command once, as is.
glob echo a b
-glob echo /x*
-glob echo /dev/sd*
-glob
glob echo not-a-path
