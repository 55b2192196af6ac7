#! 
# A command that needs the appliance before "run": the error, prefixed
# *stdin*:LINE:, and the hint line; rc 1.
echo first
ls /
echo not reached
# win: paths need the appliance too (case-insensitive lookup).
-cat win:\etc\hostname
-cat win:c:\x
