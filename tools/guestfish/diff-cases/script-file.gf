#! -f script.gf
#@ script=script.gf
#!/usr/bin/guestfish -f
# -f FILE: the script is read from the file; an error names the file and
# the line (script.gf:N:).
echo in the script

echo "quoted\tline"
ls /
echo not reached
