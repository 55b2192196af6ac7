#! 
# An invalid escape (\q) is a parse error: the script stops, rc 1.
echo before
echo "a\qb"
echo not reached
