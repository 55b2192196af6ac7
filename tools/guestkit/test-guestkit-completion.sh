#!/bin/bash -
# bash completion (guestkit.bash): verbs, each verb's options, pool names
# from the --state-dir on the command line, volume names after --pool,
# pool types after "pool-define-as NAME".  The expected lists come from
# guestkit itself (--verbs, VERB --long-options, pool-list, vol-list).
set -e
. "$abs_top_builddir/tests/functions.sh"
bc=/usr/share/bash-completion/bash_completion
[ -r $bc ] || skip "$bc is missing (package bash-completion; scripts/setup.sh installs it)"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT

# guestkit.bash runs "guestkit": the one from the build tree.
mkdir "$d/bin"
printf '#!/bin/sh\nexec %s guestkit "$@"\n' "$run" > "$d/bin/guestkit"
chmod +x "$d/bin/guestkit"
export PATH="$d/bin:$PATH"
unset GUESTKIT_STATE_DIR
state="$d/state"
guestkit --state-dir "$state" pool-define-as alpha dir --target "$d/alpha" > /dev/null
guestkit --state-dir "$state" pool-define-as beta dir --target "$d/beta" > /dev/null
guestkit --state-dir "$state" pool-start alpha --build > /dev/null
guestkit --state-dir "$state" vol-create-as alpha disk1.img 1M > /dev/null
guestkit --state-dir "$state" vol-create-as alpha disk2.qcow2 1M --format qcow2 > /dev/null

# complete LINE: the sorted COMPREPLY for the cursor at the end of LINE
# (a trailing space: completing a new, empty word).
complete_line () {
  bash --norc --noprofile -c '
    . "$1"; . "$2"
    COMP_LINE="$3"; COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<< "$COMP_LINE"
    [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _guestkit guestkit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' \
    _ "$bc" "$abs_srcdir/guestkit.bash" "$1"
}
check () {
  # check LINE EXPECTED-WORDS...
  local line="$1" got want
  shift
  got="$(complete_line "$line" | tr '\n' ' ')"
  want="$(printf '%s\n' "$@" | sort | tr '\n' ' ')"
  [ "$got" = "$want" ] || fail "completing ‘$line’: got ‘$got’, expected ‘$want’"
  echo "ok: ‘$line’ → $got"
}

# Verbs: the first word.
check "guestkit pool-" $(guestkit --verbs | grep '^pool-')
check "guestkit vol-c" $(guestkit --verbs | grep '^vol-c')
check "guestkit --state-dir $state " $(guestkit --verbs)
[ "$(guestkit --verbs | grep -c '^pool-')" -ge 10 ] || fail "guestkit --verbs lists too few pool verbs"

# Options: each verb offers what it uses (guestkit VERB --long-options);
# every one of those is an option guestkit accepts, and the lists differ.
all="$(guestkit --long-options)"
for verb in $(guestkit --verbs); do
  mine="$(guestkit $verb --long-options)"
  for o in $mine; do
    grep -qx -- "$o" <<< "$all" || fail "$verb --long-options lists $o, which guestkit does not accept"
  done
  check "guestkit $verb --" $mine
done
guestkit vol-clone --long-options | grep -qx -- --newpool || fail "vol-clone: no --newpool"
! guestkit pool-list --long-options | grep -qx -- --newpool || fail "pool-list offers --newpool"
check "guestkit vol-resize --sh" --shrink

# Pool names, from the state directory on the command line.
names="$(guestkit --state-dir "$state" pool-list --all --name-only)"
[ "$(echo $names)" = "alpha beta" ] || fail "pool-list: $names"
check "guestkit --state-dir $state pool-start " $names
check "guestkit --state-dir $state pool-info a" alpha
check "guestkit pool-undefine --state-dir $state b" beta
check "guestkit --state-dir $state vol-list --pool " $names
check "guestkit --state-dir $state pool-start alpha " # one argument only

# Volume names, for vol verbs with --pool.
vols="$(guestkit --state-dir "$state" vol-list alpha --name-only)"
[ "$(echo $vols)" = "disk1.img disk2.qcow2" ] || fail "vol-list: $vols"
check "guestkit --state-dir $state vol-info --pool alpha " $vols
check "guestkit --state-dir $state vol-dumpxml --pool alpha disk2" disk2.qcow2
check "guestkit vol-delete --pool alpha --state-dir $state disk" $vols
check "guestkit --state-dir $state vol-clone --pool alpha disk1.img " # NEWNAME is new
# vol-rename POOL VOL NEWNAME, or VOL NEWNAME --pool POOL.
check "guestkit --state-dir $state vol-rename " alpha
check "guestkit --state-dir $state vol-rename alpha " $vols
check "guestkit --state-dir $state vol-rename alpha disk1.img " # NEWNAME is new
check "guestkit --state-dir $state vol-rename --pool alpha d" $vols
check "guestkit --state-dir $state pool-clean " $names

# Pool types after pool-define-as NAME (and after --type).
check "guestkit pool-define-as newpool " dir iscsi lvm rbd
check "guestkit pool-define-as newpool r" rbd
check "guestkit pool-define-as " # NAME is new
check "guestkit pool-define-as --name x --type " dir iscsi lvm rbd
check "guestkit vol-create-as alpha v.img 1M --format q" qcow2
