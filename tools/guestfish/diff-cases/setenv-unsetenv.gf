#! 
# setenv and unsetenv change the environment of host commands.
setenv GF_DIFF_VAR "a b  c"
!echo "[$GF_DIFF_VAR]"
setenv GF_DIFF_VAR second
!echo "[$GF_DIFF_VAR]"
unsetenv GF_DIFF_VAR
!echo "[${GF_DIFF_VAR-unset}]"
unsetenv GF_DIFF_NEVER_SET
setenv GF_DIFF_VAR
echo not reached
