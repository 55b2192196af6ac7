#! 
# Errors of the library from add: a missing file, a bad label.
-add /nonexistent/disk.img readonly:true
add $IMG_LINUX readonly:true label:1bad
echo not reached
