#! 
# A quoted argument followed by more text: "command arguments not
# separated by whitespace" (here after a double quote).
echo ok
echo "a"b
echo not reached
