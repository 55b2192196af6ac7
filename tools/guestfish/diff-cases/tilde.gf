#! 
# "~" at the start of an unquoted argument: the home directory ($HOME,
# the same empty directory for both), "~root" another user's; quoted or
# in the middle it stays; an unknown user stays as written.
echo ~
echo ~/sub/file
echo ~root
echo ~root/x
echo '~' "~/x" a~b
echo ~nosuchuser-gk/x
