#! 
# A "-" prefix: a failing command (unknown command, as the first command,
# so with its hint; a call that needs launch; wrong arguments) does not
# stop the script, and the exit code stays 0.
-nosuchcmd
echo a
-ls /
-cat
echo b
