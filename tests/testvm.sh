# A small test VM for the commands that need the kernel's device-mapper
# (lvcreate, thin pools, dmsetup), which the build machine's own kernel
# may lack.  Source after functions.sh; then:
#
#   testvm_check || exit 77          # says why the VM cannot run
#   testvm_run [-d DISK]... SCRIPT [ARGS...]
#
# testvm_run boots the newest /boot/vmlinuz-* under TCG (never KVM: nested
# KVM hangs at boot) with 1 GiB of RAM.  The guest's root is the host's
# root, read-only over 9p; $abs_top_builddir, $abs_top_srcdir and the
# current directory are mounted writable at the same paths; /tmp, /run,
# /var/tmp and /etc/lvm are tmpfs (an lvm.conf for lvm2 without udev);
# dm-mod, dm-thin-pool, dm-snapshot and virtio_blk are loaded.  Each -d
# image becomes /dev/vda, /dev/vdb, ... in order (raw).
# There it runs "sh SCRIPT ARGS" in the same directory, with the same
# PATH, abs_* and GUESTKIT_* variables (and the names listed in
# TESTVM_ENV), prints what the script wrote to stdout and stderr on
# stdout, and returns the script's exit status.  The guest's /tmp is not
# the host's: exchange files through the build directory.  SCRIPT is run
# from a copy ($0 differs), so it may live anywhere, even in the host's
# /tmp.
# After the VM (TESTVM_TIMEOUT seconds, default 300) is killed, testvm_run
# returns 124; when the VM stops without the script's status, 125.  In
# both cases, and whenever the script fails, the run directory with
# qemu's log and the guest console is kept and named.
# testvm_elapsed (boot + run, seconds) and testvm_boot (guest uptime when
# the script started) are set after each run, and testvm_qemu_pid and
# testvm_rundir (removed when the script succeeded) at each.

testvm_dir="$abs_top_builddir/tests/testvm"

# Modules loaded by the initramfs: virtio PCI and 9p to mount the host's
# root, and what the tests need (modprobe over 9p costs seconds under TCG).
testvm_initrd_modules="virtio_pci 9pnet_virtio 9p dm-mod dm-thin-pool dm-snapshot virtio_blk"

# The newest kernel in /boot whose modules include 9p (sets
# testvm_kernel and testvm_kver); non-zero and a reason otherwise.
testvm_find_kernel () {
  local k v
  testvm_kernel= testvm_kver=
  for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    v="${k#/boot/vmlinuz-}"
    [ -r "$k" ] || continue
    [ -f "/lib/modules/$v/modules.dep" ] || continue
    for m in $testvm_initrd_modules; do
      "$testvm_modprobe" -S "$v" --show-depends "$m" > /dev/null 2>&1 || continue 2
    done
    testvm_kernel="$k" testvm_kver="$v"
    return 0
  done
  testvm_why="no readable /boot/vmlinuz-* with the modules $testvm_initrd_modules in /lib/modules (Debian: linux-image-amd64)"
  return 1
}

testvm_check () {
  testvm_why=
  if ! command -v qemu-system-x86_64 > /dev/null; then
    testvm_why="qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
  elif [ ! -x /bin/busybox ] || ldd /bin/busybox > /dev/null 2>&1; then
    testvm_why="no static /bin/busybox (Debian: busybox-static)"
  elif ! command -v cpio > /dev/null || ! command -v gzip > /dev/null; then
    testvm_why="cpio or gzip is missing (Debian: cpio, gzip)"
  elif ! testvm_modprobe="$(PATH="$PATH:/usr/sbin:/sbin" command -v modprobe)"; then
    testvm_why="modprobe is missing (Debian: kmod)"
  elif [ -z "${abs_top_builddir:-}" ] || [ -z "${abs_top_srcdir:-}" ]; then
    testvm_why="abs_top_builddir and abs_top_srcdir are not set (source functions.sh)"
  else
    testvm_find_kernel || true
  fi
  if [ -n "$testvm_why" ]; then
    echo "$0: SKIP: no test VM: $testvm_why"
    return 1
  fi
  return 0
}

# The initramfs's /init: load the modules, mount the host's root
# read-only, the tmpfs and the writable shares over it (busybox is fast;
# the host's tools over 9p are not, under TCG), then run the run's stage2
# (kept in the run directory, so that the initramfs rarely changes) in a
# chroot with its output in the run directory, and power off.
testvm_init_text () {
  cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do
  insmod "/modules/$m" || echo "testvm init: insmod $m failed"
done
run=
for a in $(cat /proc/cmdline); do
  case "$a" in testvm.run=*) run="${a#testvm.run=}" ;; esac
done
r=/newroot
mkdir -p $r
# The root does not change while the VM runs: cache it.
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose root $r; then
  for d in tmp run var/tmp etc/lvm; do
    mount -t tmpfs -o mode=755 tmpfs $r/$d || echo "testvm init: cannot mount a tmpfs on /$d"
  done
  chmod 1777 $r/tmp $r/var/tmp
  mount --move /dev $r/dev
  mount --move /proc $r/proc
  mount --move /sys $r/sys
  mkdir -p $r/dev/shm $r/dev/pts
  mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
  mount -t devpts devpts $r/dev/pts
  # The writable shares at their host paths (which exist in the root).
  while read -r tag path; do
    mkdir -p "$r$path"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "$tag" "$r$path" ||
      echo "testvm init: cannot mount $path"
  done < "$r$run/shares"
  chroot $r /bin/sh "$run/stage2" > "$r$run/output" 2>&1 < $r/dev/null
  echo "testvm init: stage2 exited with status $?"
  sync
  echo o > $r/proc/sysrq-trigger
else
  echo "testvm init: cannot mount the host's root over 9p"
  sync
  echo o > /proc/sysrq-trigger
fi
sleep 30
EOF
}

# Build $testvm_dir/initrd.img unless the one there was made from the
# same kernel, modules, busybox and /init.
testvm_build_initrd () {
  local mods=() line path name stamp tmp i=0 m
  # The insmod lines of modprobe's dependency lists, in order, once each.
  while read -r line; do
    case "$line" in
      insmod\ *) path="${line#insmod }"; path="${path%% *}" ;;
      *) continue ;;
    esac
    for m in "${mods[@]}"; do [ "$m" = "$path" ] && continue 2; done
    mods+=("$path")
  done < <(for m in $testvm_initrd_modules; do
             "$testvm_modprobe" -S "$testvm_kver" --show-depends "$m"; done)
  stamp="$(testvm_init_text | cksum) ${mods[*]} $(cksum < /bin/busybox) $testvm_kver"
  if [ -f "$testvm_dir/initrd.img" ] && [ "$(cat "$testvm_dir/initrd.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  mkdir -p "$testvm_dir"
  tmp="$(mktemp -d "$testvm_dir/initrd.XXXXXX")"
  mkdir -p "$tmp/root/bin" "$tmp/root/modules" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
  cp /bin/busybox "$tmp/root/bin/busybox"
  testvm_init_text > "$tmp/root/init"
  chmod 755 "$tmp/root/init"
  # busybox's insmod may not read compressed modules: store them plain.
  for path in "${mods[@]}"; do
    i=$((i + 1))
    name="$(printf '%02d' "$i")-$(basename "$path")"
    case "$path" in
      *.ko.xz)  name="${name%.xz}";  xz -dc "$path" > "$tmp/root/modules/$name" ;;
      *.ko.zst) name="${name%.zst}"; zstd -qdc "$path" > "$tmp/root/modules/$name" ;;
      *.ko.gz)  name="${name%.gz}";  gzip -dc "$path" > "$tmp/root/modules/$name" ;;
      *) cp "$path" "$tmp/root/modules/$name" ;;
    esac || { rm -rf "$tmp"; echo "testvm: cannot copy module $path" >&2; return 1; }
    echo "$name" >> "$tmp/root/modules/order"
  done
  if ! (cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/initrd.img"; then
    rm -rf "$tmp"
    echo "testvm: cannot build the initramfs" >&2
    return 1
  fi
  # Atomic renames: another test may boot the previous image meanwhile.
  mv -f "$tmp/initrd.img" "$testvm_dir/initrd.img"
  echo "$stamp" > "$tmp/stamp"
  mv -f "$tmp/stamp" "$testvm_dir/initrd.stamp"
  rm -rf "$tmp"
}

# Under TCG, decompressing the kernel costs seconds at every boot.  A
# kernel built with CONFIG_PVH boots from its uncompressed ELF image
# instead: extract it once (sets testvm_boot_kernel; the vmlinuz itself
# when that is not possible).
testvm_extract_kernel () {
  local out="$testvm_dir/vmlinux-$testvm_kver" magic off cmd tmp
  testvm_boot_kernel="$testvm_kernel"
  grep -qx 'CONFIG_PVH=y' "/boot/config-$testvm_kver" 2>/dev/null || return 0
  if [ -f "$out" ] && [ "$out" -nt "$testvm_kernel" ]; then
    testvm_boot_kernel="$out"
    return 0
  fi
  # The payload follows the setup code: find its compressor's magic.
  for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    cmd="${magic%%:*}"
    command -v "$cmd" > /dev/null || continue
    off="$(LC_ALL=C grep -obUaP "${magic#*:}" "$testvm_kernel" 2>/dev/null | head -n 1 | cut -d: -f1)"
    [ -n "$off" ] || continue
    tmp="$(mktemp "$testvm_dir/vmlinux.XXXXXX")"
    # The compressed payload has trailing data: ignore the decompressor's
    # complaint, check the ELF header instead.
    tail -c +"$((off + 1))" "$testvm_kernel" | "$cmd" -dc > "$tmp" 2> /dev/null
    if [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      mv -f "$tmp" "$out"
      testvm_boot_kernel="$out"
      return 0
    fi
    rm -f "$tmp"
  done
  return 0
}

# Single-quote $1 for sh.
testvm_quote () {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Stage 2, run by the guest's /init in the chroot (the host's root) with
# /bin/sh, its output already in the run directory: lvm.conf, a check of
# the modules and disks, then the script.  Its config
# (mounts, environment, script) is written by testvm_run beside it.
testvm_stage2_text () {
  cat <<'EOF'
run="${0%/*}"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. "$run/config"
# lvm2 without udev: it creates the /dev/mapper nodes and /dev/VG/LV links
# itself; no dmeventd, lvmpolld or device list from udev.
cat > /etc/lvm/lvm.conf <<'CONF'
devices {
  obtain_device_list_from_udev = 0
  external_device_info_source = "none"
  use_devicesfile = 0
  multipath_component_detection = 0
  md_component_detection = 0
}
activation {
  udev_sync = 0
  udev_rules = 0
  monitoring = 0
}
global {
  use_lvmpolld = 0
}
CONF
for m in dm_mod dm_thin_pool dm_snapshot virtio_blk; do
  [ -d "/sys/module/$m" ] || echo "testvm: module $m is not loaded"
done
# virtio_blk probes its disks asynchronously.
i=0
while [ "$i" -lt 100 ]; do
  n=0
  for d in /sys/block/vd*; do [ -e "$d" ] && n=$((n + 1)); done
  [ "$n" -ge "$testvm_ndisks" ] && break
  sleep 0.1; i=$((i + 1))
done
[ "$n" -ge "$testvm_ndisks" ] || echo "testvm: only $n of $testvm_ndisks disks appeared"
read -r up _ < /proc/uptime; echo "$up" > "$run/boot"
rc=0
(
  . "$run/env"
  cd "$testvm_cwd" && exec sh "$run/script" "$@"
) || rc=$?
echo "$rc" > "$run/status"
sync
EOF
}

testvm_cleanup () {
  if [ -n "${testvm_pid:-}" ]; then
    stop_pid "$testvm_pid" 20
    testvm_pid=
  fi
}

testvm_run () {
  local disks=() script cwd run d tag i rc n start deadline timeout qemu_log
  local -a qemu_args
  while [ $# -gt 0 ]; do
    case "$1" in
      -d) [ $# -ge 2 ] || { echo "testvm_run: -d needs a disk image" >&2; return 2; }
          [ -f "$2" ] || [ -b "$2" ] || { echo "testvm_run: no disk image $2" >&2; return 2; }
          disks+=("$(realpath "$2")"); shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ $# -ge 1 ] || { echo "testvm_run: usage: testvm_run [-d DISK]... SCRIPT [ARGS...]" >&2; return 2; }
  script="$1"; shift
  [ -r "$script" ] || { echo "testvm_run: cannot read $script" >&2; return 2; }
  if [ -z "${testvm_kernel:-}" ]; then
    testvm_check > /dev/null || { echo "testvm_run: $testvm_why" >&2; return 2; }
  fi
  timeout="${TESTVM_TIMEOUT:-300}"
  testvm_build_initrd || return 2
  testvm_extract_kernel
  cwd="$(pwd -P)"
  case "$cwd$abs_top_builddir$abs_top_srcdir" in
    *[[:space:]]*) echo "testvm_run: paths with white space are not supported" >&2; return 2 ;;
  esac
  run="$(mktemp -d "$testvm_dir/run.XXXXXX")"
  testvm_rundir="$run"
  cp "$script" "$run/script"
  testvm_stage2_text > "$run/stage2"

  # Writable shares: each directory not already inside another one.
  : > "$run/shares"
  i=0
  for d in $(printf '%s\n' "$(realpath "$abs_top_srcdir")" "$(realpath "$abs_top_builddir")" "$cwd" |
             LC_ALL=C sort -u | awk '{ for (i = 1; i <= n; i++) if (index($0 "/", p[i] "/") == 1) next; p[++n] = $0; print }'); do
    tag="gk$i"; i=$((i + 1))
    qemu_args+=(-virtfs "local,path=${d//,/,,},mount_tag=$tag,security_model=none,multidevs=remap")
    echo "$tag $d" >> "$run/shares"
  done
  {
    echo "testvm_ndisks=${#disks[@]}"
    printf 'testvm_cwd=%s\n' "$(testvm_quote "$cwd")"
    printf 'set --'; for d in "$@"; do printf ' %s' "$(testvm_quote "$d")"; done; echo
  } > "$run/config"
  # The environment the script sees: the test's own variables.
  {
    for n in PATH LANG LC_ALL TZ abs_top_builddir abs_top_srcdir abs_builddir abs_srcdir \
             top_builddir top_srcdir builddir srcdir \
             $(compgen -e | grep -E '^(GUESTKIT_|LIBGUESTFS_|TESTVM_)') ${TESTVM_ENV:-}; do
      [ -n "${!n+set}" ] || continue
      printf 'export %s=%s\n' "$n" "$(testvm_quote "${!n}")"
    done
    # lvm2 warns about every inherited descriptor otherwise.
    echo "export LVM_SUPPRESS_FD_WARNINGS=1"
  } > "$run/env"

  for d in "${disks[@]}"; do
    qemu_args+=(-drive "file=${d//,/,,},format=raw,if=virtio,cache=unsafe")
  done
  qemu_log="$run/qemu.log"
  start="$(date +%s.%N)"
  # The trap stops the VM when the test ends early; pdeathsig when the
  # test itself is killed.  Any EXIT trap of the test still runs after.
  local old_trap old_cmd=
  old_trap="$(trap -p EXIT)"
  [ -z "$old_trap" ] || old_cmd="$(eval "testvm_trap_arg ${old_trap#trap }")"
  trap "testvm_cleanup; $old_cmd" EXIT
  local pdeath=()
  setpriv --help 2>/dev/null | grep -q pdeathsig && pdeath=(setpriv --pdeathsig KILL)
  "${pdeath[@]}" qemu-system-x86_64 \
    -machine accel=tcg -cpu max -m 1024 \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$testvm_boot_kernel" -initrd "$testvm_dir/initrd.img" \
    -append "console=ttyS0 quiet panic=-1 testvm.run=$run" \
    -serial "file:$run/console.log" \
    -virtfs "local,path=/,mount_tag=root,security_model=passthrough,readonly=on,multidevs=remap" \
    "${qemu_args[@]}" > "$qemu_log" 2>&1 < /dev/null &
  testvm_pid=$!
  testvm_qemu_pid=$testvm_pid
  deadline=$(( $(date +%s) + timeout ))
  while kill -0 "$testvm_pid" 2>/dev/null &&
        ! grep -q '^State:.*Z' "/proc/$testvm_pid/status" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      testvm_cleanup
      [ ! -f "$run/output" ] || cat "$run/output"
      echo "testvm_run: TIMEOUT: the VM did not finish within $timeout s (TESTVM_TIMEOUT); killed it" >&2
      echo "testvm_run: qemu log $qemu_log, guest console $run/console.log" >&2
      testvm_restore_trap "$old_trap"
      return 124
    fi
    sleep 0.2
  done
  wait "$testvm_pid" 2>/dev/null || true
  testvm_pid=
  testvm_restore_trap "$old_trap"
  testvm_elapsed="$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')"
  testvm_boot="$(cat "$run/boot" 2>/dev/null || echo '?')"
  [ ! -f "$run/output" ] || cat "$run/output"
  if [ ! -s "$run/status" ]; then
    echo "testvm_run: the VM stopped without the script's exit status" >&2
    echo "testvm_run: qemu log $qemu_log, guest console $run/console.log:" >&2
    tail -n 20 "$qemu_log" "$run/console.log" >&2
    return 125
  fi
  rc="$(cat "$run/status")"
  if [ "$rc" = 0 ]; then
    rm -rf "$run"
  else
    echo "testvm_run: the script exited with status $rc (qemu log $qemu_log, guest console $run/console.log)" >&2
  fi
  return "$rc"
}

# "trap -p" prints "trap -- CMD EXIT": CMD, unquoted.
testvm_trap_arg () { printf '%s' "$2"; }

testvm_restore_trap () {
  if [ -n "$1" ]; then eval "$1"; else trap - EXIT; fi
}
