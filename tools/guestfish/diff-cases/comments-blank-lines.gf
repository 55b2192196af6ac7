#! 
# Comments and blank lines count as lines: the error on the last line
# names its line number (*stdin*:N:).

   # an indented comment
	# a comment after a tab
echo one

    
echo two
ls /
