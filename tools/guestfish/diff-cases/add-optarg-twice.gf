#! 
# add with an optional argument given twice, then with no argument at
# all (the usage line lists every optional argument).
-add $IMG_LINUX readonly:true readonly:false
-add $IMG_LINUX format:raw readonly:true format:qcow2
add
echo not reached
