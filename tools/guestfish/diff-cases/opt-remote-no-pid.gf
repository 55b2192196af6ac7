#! --remote echo not reached
#@ stdin=none
# --remote without GUESTFISH_PID set.
