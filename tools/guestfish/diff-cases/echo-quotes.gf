#! 
# Quoting: '...' keeps backslashes, "..." and '...' keep blanks, empty
# quoted arguments, quotes of one kind inside the other.
echo 'a b' "c d"
echo 'a\nb' 'x\ty'
echo '' "" x
echo 'a "b" c' "a 'b' c"
echo "  spaces  " '	tab	'
