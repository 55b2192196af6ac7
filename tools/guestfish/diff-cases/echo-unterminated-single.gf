#! 
# An unterminated single quote.
echo ok
echo 'abc
echo not reached
