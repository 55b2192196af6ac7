#! 
# Size arguments: suffixes (K, KB, M, GiB), hex and octal (sparse and
# alloc create files in the local directory and add them as drives).
sparse a.img 1K
sparse b.img 1KB
alloc c.img 0x1000
sparse d.img 010
sparse e.img 1M
sparse f.img 2GiB
sparse g.img 3k
!stat -c "%n %s" a.img b.img c.img d.img e.img f.img g.img
list-devices
