#! --listen --remote echo not reached
#@ stdin=none
# --listen with --remote (and no GUESTFISH_PID).
