#! 
# An unterminated double quote.
echo ok
echo "abc
echo not reached
