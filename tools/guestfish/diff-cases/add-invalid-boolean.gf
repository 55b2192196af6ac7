#! 
# add with readonly:maybe (not a boolean).
add $IMG_LINUX readonly:maybe
echo not reached
