#! 
# Invalid sizes: an unknown suffix, a negative number, a fraction,
# letters, an overflow.
-sparse a.img 1X
-sparse a.img -1
-sparse a.img 1.5M
-sparse a.img abc
-sparse a.img 99999999999999999999999
!ls
sparse a.img
