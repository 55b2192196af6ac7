#! 
# "!cmd" runs a host command: !true and !echo go on, !false stops the
# script with rc 1 (and guestfish prints nothing for it).
!true
!echo hi from the shell
! echo leading space
echo after true
!false
echo not reached
