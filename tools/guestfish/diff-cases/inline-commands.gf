#! 
# "<! cmd": the host command's output is run as guestfish commands.
<! echo echo inlined
<! printf 'echo x\necho "y z"\n# comment\n\necho w\n'
echo after
