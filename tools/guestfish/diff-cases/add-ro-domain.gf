#! 
# add-ro and allocate (aliases), and add-domain on libvirt's test driver
# (no libvirtd): its domain's disk is missing; an unknown domain; an
# unknown optional argument.
add-ro /dev/null
-add-ro
-allocate
-add-domain test libvirturi:test:///default readonly:true
-add-domain nosuchdomain libvirturi:test:///default readonly:true
-add-domain test bogus:1
-domain test libvirturi:test:///default readonly:maybe
echo done
