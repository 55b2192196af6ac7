#! 
# A host command's exit status: "-!false" goes on; an empty "!" is a
# no-op; "!exit 3" stops the script with rc 1 (not 3).
-!false
!
echo after
!exit 3
echo not reached
