#! 
# add with optional arguments (readonly:true format:raw), then
# list-devices before run: an error.
add $IMG_LINUX readonly:true format:raw
add-drive $IMG_EXT4 readonly:true
add-drive-ro $IMG_XFS
echo three drives added
list-devices
echo not reached
