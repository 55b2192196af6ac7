#! 
# "supported" before run: it needs the appliance.
supported
echo not reached
