#! 
# A "-" prefix also covers parse errors: each invalid escape (\e, \0,
# \X41, \400, "\ ", \$, a short \x, a short octal) is reported with its
# offset and the script goes on, rc 0.
-echo "\e"
-echo "ab\0"
-echo "\X41"
-echo "\400"
-echo "x\ y"
-echo "\$HOME"
-echo "\x4g"
-echo "\x4"
-echo "\1\12"
echo end
