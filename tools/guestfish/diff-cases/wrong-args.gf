#! 
# Wrong numbers of arguments, with "-" so that the script goes on: too
# few and too many for a daemon command (cat), a command with optional
# arguments (is-file), a guestfish command (lcd, help).  The last one,
# without "-", ends the script with rc 1.
-cat
-cat /a /b
-is-file
-is-file /a /b /c
-lcd
-lcd a b
-mount-ro /dev/sda1
echo still running
cat
echo not reached
