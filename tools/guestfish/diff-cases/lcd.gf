#! 
# lcd changes the local directory of host commands; a missing directory
# is an error.
!pwd
lcd /usr
!pwd
lcd share
!pwd
lcd /nonexistent-dir
echo not reached
