#! --remote=abc echo not reached
#@ stdin=none
# --remote=PID with a PID that is not a number (the message says
# --listen).
