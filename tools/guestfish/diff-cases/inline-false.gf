#! 
# "<!" of a host command that fails: the reference reports pclose's
# failure (with a stale errno) and stops, rc 1.
echo before
<! false
echo not reached
