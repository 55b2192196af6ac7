#! --ro -i /nonexistent/old-style.img
#@ stdin=none
# The old syntax "guestfish --ro -i DISK": the argument is taken as a
# disk image; here it does not exist (no appliance is started).
