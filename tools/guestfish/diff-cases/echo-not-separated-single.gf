#! 
# Two single-quoted strings back to back ('it''s') are not one word:
# arguments not separated by whitespace.
echo ok
echo 'it''s'
echo not reached
