#! -f script.gf echo from the command line
#@ script=script.gf
# -f FILE and commands on the command line: the reference runs only the
# command-line commands.
echo from the script
