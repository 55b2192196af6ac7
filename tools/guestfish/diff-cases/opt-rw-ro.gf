#! --rw --ro echo ok
#@ stdin=none
# --rw then --ro: the reference accepts it (only --ro --rw is refused).
