#! -- -a
#@ stdin=none
# After "--", "-a" is the command "a" with a "-" prefix: unknown (as the
# first command: with the hint) but rc 0.
