#! echo '"quoted' 'a b' '\n' "'x'" '#c'
#@ stdin=none
# Command-line arguments are taken as they are: no quote, escape or
# comment parsing.
