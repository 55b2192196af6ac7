#! 
# echo: plain words, runs of spaces and tabs between them, leading
# blanks, an echo with no argument (an empty line), and a "#" that is
# not at the start of a word (not a comment).
echo hello
echo a   b		c
   	echo leading blanks
echo
echo a #not-a-comment
echo -n -e x
