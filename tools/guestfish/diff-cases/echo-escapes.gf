#! 
# The escapes of "...": \n \t \\ \" \' \a \b \f \r \v, \xHH, \OOO
# (three octal digits), \377 (a byte above 127).
echo "line1\nline2"
echo "a\tb"
echo "back\\slash \"dq\" \'sq\'"
echo "[\a\b\f\r\v]"
echo "\x41\x62\x7a"
echo "\101\142\172"
echo "[\377]"
