#! 
# add with an unknown optional argument.
add $IMG_LINUX readonly:true bogus:1
echo not reached
