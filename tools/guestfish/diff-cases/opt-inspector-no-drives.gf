#! -i
#@ stdin=none
# -i with no disk: launch fails at once (no drive was added); no
# appliance is started.
