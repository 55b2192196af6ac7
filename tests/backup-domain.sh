# A small running libvirt domain for the backup tests (gk_disk_open_domain
# on a running guest): the host's Debian kernel under TCG (never KVM:
# nested KVM hangs) with a busybox initramfs whose /init runs the commands
# the test sends it, so that the GUEST writes to its disks while a backup
# job runs.  Source after functions.sh, libvirtd.sh and testvm.sh, and
# after start_libvirtd; then:
#
#   backup_domain_check                # fails, saying what is missing
#   start_backup_domain NAME DISK...   # define + start, wait for the guest
#   guest_run NAME 'COMMAND' [SECS]    # run it in the guest (sh -c): its
#                                      # output, and its exit status
#   stop_backup_domain NAME            # destroy + undefine
#   backup_domain_at_exit 'CMD'        # run CMD at exit, before the
#                                      # EXIT trap already set
#
# Each DISK is an image file, attached as vda, vdb, ... in order (virtio,
# its format as qemu-img info reads it), or a whole <disk> element (an rbd
# network disk, say) given as is, with its own target.  The guest has the
# disks as /dev/vd*; in the guest, busybox's tools only (dd, cmp, md5sum,
# sync...).  COMMAND is one line.  The guest agent channel
# (org.qemu.guest_agent.0) is there only with BACKUP_DOMAIN_AGENT=1: a tiny
# agent in the initramfs answers guest-sync, guest-ping and the fsfreeze
# commands (it freezes nothing; thaw fails while the guest has a file
# /tmp/agent-fail-thaw) and logs each command on the console ("gk-agent:
# NAME"), for the quiesce tests; its PID is in the guest's /tmp/agent.pid.
# Domains still defined at exit are destroyed and undefined.  The console
# log is $backup_domain_dir/NAME.console (printed when the guest does not
# come up); the guest is up 5-9 s after start_backup_domain (TCG).

backup_domain_dir=
backup_domain_names=()
virtlogd_pid=

# Kernel modules of the initramfs: virtio disks and the agent's port.
backup_domain_modules="virtio_pci virtio_blk virtio_console"

# Everything the domain needs is installed by scripts/setup.sh: what is
# missing fails the test (it is not skipped).
backup_domain_check () {
  testvm_check > /dev/null ||
    fail "no backup domain: $testvm_why (scripts/setup.sh installs it)"
  local b
  for b in virsh virtlogd libvirtd qemu-img qemu-io python3; do
    command -v "$b" > /dev/null ||
      fail "$b is not installed (scripts/setup.sh installs it)"
  done
}

# The initramfs's /init: modules, disks, then a loop that reads
# "ID COMMAND" lines on the second serial port (ttyS1, a Unix socket on
# the host), runs COMMAND and answers "ID: LINE" for each line of its
# output and "ID= STATUS" at the end.  The first port is the console.
backup_domain_init_text () {
  cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run
for m in $(cat /modules/order); do
  insmod "/modules/$m" || echo "gk-backup-domain: insmod $m failed"
done
n=0 agent=0
for a in $(cat /proc/cmdline); do
  case "$a" in
    gk.disks=*) n="${a#gk.disks=}" ;;
    gk.agent=*) agent="${a#gk.agent=}" ;;
  esac
done
# virtio_blk probes its disks asynchronously.
i=0
while [ "$i" -lt 100 ]; do
  c=0
  for d in /sys/block/vd*; do [ -e "$d" ] && c=$((c + 1)); done
  [ "$c" -ge "$n" ] && break
  sleep 0.1; i=$((i + 1))
done
[ "$c" -ge "$n" ] || echo "gk-backup-domain: only $c of $n disks"
# The agent, when its port is there (no udev: find it by name): one
# JSON command a line, as libvirt sends them; the protocol's answers.
cat > /agent <<'AGENT'
#!/bin/sh
exec 4<> "$1"
frozen=0
# The port reads as end of file while libvirt is not connected to it.
while :; do
while read -r line <&4; do
  cmd="$(echo "$line" | sed -n 's/.*"execute" *: *"\([^"]*\)".*/\1/p')"
  [ -n "$cmd" ] || continue
  echo "gk-agent: $cmd" > /dev/console
  case "$cmd" in
    guest-sync)
      id="$(echo "$line" | sed -n 's/.*"id" *: *\([0-9]*\).*/\1/p')"
      echo "{\"return\": $id}" >&4 ;;
    guest-fsfreeze-freeze*) frozen=1; echo '{"return": 1}' >&4 ;;
    guest-fsfreeze-thaw)
      if [ -e /tmp/agent-fail-thaw ]; then
        echo '{"error": {"class": "GenericError", "desc": "thaw failed (test)"}}' >&4
      else
        frozen=0; echo '{"return": 1}' >&4
      fi ;;
    guest-fsfreeze-status)
      if [ "$frozen" = 1 ]; then s=frozen; else s=thawed; fi
      echo "{\"return\": \"$s\"}" >&4 ;;
    *) echo '{"return": {}}' >&4 ;;
  esac
done
sleep 0.2
done
AGENT
chmod 755 /agent
# Its port appears asynchronously too.
i=0
while [ "$agent" = 1 ] && [ "$i" -lt 100 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
    /agent "/dev/${p##*/}" &
    echo $! > /tmp/agent.pid
    agent=started
  done
  [ "$agent" = started ] || { sleep 0.1; i=$((i + 1)); }
done
[ "$agent" != 1 ] || echo "gk-backup-domain: no guest agent port"
stty -F /dev/ttyS1 raw -echo
exec 3<> /dev/ttyS1
echo "gk-backup-domain: ready"
while read -r id cmd <&3; do
  case "$id" in gk*) ;; *) continue ;; esac
  sh -c "$cmd" > /tmp/out 2>&1 < /dev/null
  rc=$?
  sed "s/^/$id: /" /tmp/out >&3
  echo "$id= $rc" >&3
done
echo "gk-backup-domain: command port closed"
EOF
}

# The initramfs, cached in $abs_top_builddir/tests/backup-domain: testvm's
# builder with this /init and these modules (it rebuilds when they change).
backup_domain_build_initrd () {
  (
    testvm_dir="$abs_top_builddir/tests/backup-domain"
    testvm_initrd_modules="$backup_domain_modules"
    testvm_init_text () { backup_domain_init_text; }
    testvm_build_initrd
  )
}

# virtlogd: libvirtd hands it the domain's log (libvirtd.sh does not start
# it).  Ours, by PID; left alone when one is already running.
backup_domain_start_virtlogd () {
  [ -z "$virtlogd_pid" ] || return 0
  if [ -S /var/run/libvirt/virtlogd-sock ] &&
     python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
       /var/run/libvirt/virtlogd-sock 2>/dev/null; then
    return 0
  fi
  rm -f /var/run/libvirt/virtlogd-sock /var/run/libvirt/virtlogd-admin-sock
  virtlogd -p "$backup_domain_dir/virtlogd.pid" > "$backup_domain_dir/virtlogd.log" 2>&1 &
  virtlogd_pid=$!
  local i
  for i in $(seq 1 50); do
    [ -S /var/run/libvirt/virtlogd-sock ] && return 0
    sleep 0.1
  done
  cat "$backup_domain_dir/virtlogd.log" >&2
  fail "virtlogd did not start"
}

backup_domain_cleanup () {
  local n
  for n in "${backup_domain_names[@]}"; do
    virsh -q -c "$libvirt_uri" destroy "$n" > /dev/null 2>&1 || true
    virsh -q -c "$libvirt_uri" undefine --checkpoints-metadata "$n" > /dev/null 2>&1 || true
  done
  backup_domain_names=()
  if [ -n "$virtlogd_pid" ]; then
    stop_pid "$virtlogd_pid" 50
    virtlogd_pid=
  fi
  [ -z "$backup_domain_dir" ] || rm -rf "$backup_domain_dir"
  backup_domain_dir=
}

# Run CMD at exit before whatever EXIT trap is set (libvirtd.sh's stops
# the daemon: what lives in it must go first).
backup_domain_at_exit () {
  local old cmd=
  old="$(trap -p EXIT)"
  [ -z "$old" ] || cmd="$(eval "testvm_trap_arg ${old#trap }")"
  trap "$1; $cmd" EXIT
}

backup_domain_trap () {
  case "$(trap -p EXIT)" in *backup_domain_cleanup*) return 0 ;; esac
  backup_domain_at_exit backup_domain_cleanup
}

# Escape for XML attribute values.
backup_domain_xml_escape () {
  printf '%s' "$1" | sed "s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/'/\&apos;/g"
}

start_backup_domain () {
  local name="$1"; shift
  local initrd kernel d fmt disks="" ndisks=0 letters=abcdefghijklmnop
  local start i xml console sock agent="" agentarg=0
  [ $# -ge 1 ] || fail "start_backup_domain: no disk"
  if [ -z "$backup_domain_dir" ]; then
    # Reachable by qemu (libvirt runs it as libvirt-qemu by default).
    backup_domain_dir="$(mktemp -d /tmp/gk-bdom.XXXXXX)"
    chmod 755 "$backup_domain_dir"
  fi
  backup_domain_trap
  backup_domain_start_virtlogd
  backup_domain_build_initrd || fail "cannot build the backup domain's initramfs"
  initrd="$abs_top_builddir/tests/backup-domain/initrd.img"
  # The kernel testvm.sh boots (uncompressed when it can: faster).
  testvm_extract_kernel
  kernel="$testvm_boot_kernel"
  for d in "$@"; do
    case "$d" in
      '<disk'*) disks="$disks$d"; ndisks=$((ndisks + 1)); continue ;;
    esac
    [ -f "$d" ] || [ -b "$d" ] || fail "start_backup_domain: no disk image $d"
    fmt="$(qemu-img info -U --output=json "$d" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')" ||
      fail "start_backup_domain: qemu-img info $d"
    d="$(realpath "$d")"
    disks="$disks<disk type='file' device='disk'><driver name='qemu' type='$fmt'/><source file='$(backup_domain_xml_escape "$d")'/><target dev='vd${letters:$ndisks:1}' bus='virtio'/></disk>"
    ndisks=$((ndisks + 1))
  done
  console="$backup_domain_dir/$name.console"
  sock="$backup_domain_dir/$name.sock"
  rm -f "$console" "$sock"
  if [ "${BACKUP_DOMAIN_AGENT:-0}" = 1 ]; then
    agentarg=1
    agent="<controller type='virtio-serial' index='0'/><channel type='unix'><source mode='bind' path='$backup_domain_dir/$name.agent'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
  fi
  xml="$backup_domain_dir/$name.xml"
  cat > "$xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 gk.disks=$ndisks gk.agent=$agentarg</cmdline>
  </os>
  <cpu mode='maximum' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    $disks
    <serial type='file'><source path='$console'/><target port='0'/></serial>
    <serial type='unix'><source mode='bind' path='$sock'/><target port='1'/></serial>
    $agent
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
  virsh -q -c "$libvirt_uri" define "$xml" > /dev/null || fail "virsh define $name"
  backup_domain_names+=("$name")
  start="$(date +%s.%N)"
  virsh -q -c "$libvirt_uri" start "$name" > /dev/null || fail "virsh start $name"
  for i in $(seq 1 600); do
    grep -q 'gk-backup-domain: ready' "$console" 2>/dev/null && break
    [ "$(virsh -c "$libvirt_uri" domstate "$name" 2>/dev/null)" = running ] || break
    sleep 0.1
  done
  if ! grep -q 'gk-backup-domain: ready' "$console" 2>/dev/null; then
    cat "$console" >&2 2>/dev/null || true
    tail -20 "/var/log/libvirt/qemu/$name.log" >&2 2>/dev/null || true
    fail "start_backup_domain: the guest $name did not come up within 60 s"
  fi
  if [ "$agentarg" = 1 ]; then
    for i in $(seq 1 100); do
      virsh -c "$libvirt_uri" dumpxml "$name" |
        grep -q "name='org.qemu.guest_agent.0' state='connected'" && break
      sleep 0.1
    done
  fi
  backup_domain_boot="$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')"
}

# Run COMMAND in the guest; its output on stdout, its exit status as
# ours (124 when no answer came within SECS, default 60).
guest_run () {
  local name="$1" cmd="$2" secs="${3:-60}"
  case "$cmd" in *$'\n'*) fail "guest_run: COMMAND must be one line" ;; esac
  python3 - "$backup_domain_dir/$name.sock" "$cmd" "$secs" <<'PY'
import os, socket, sys, time
path, cmd, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
ident = "gk%d%d" % (os.getpid(), int(time.time() * 1000) % 100000)
deadline = time.time() + secs
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(("%s %s\n" % (ident, cmd)).encode())
buf = b""
while True:
    left = deadline - time.time()
    if left <= 0:
        sys.stderr.write("guest_run: no answer from the guest within %g s: %s\n" % (secs, cmd))
        sys.exit(124)
    s.settimeout(left)
    try:
        data = s.recv(65536)
    except socket.timeout:
        continue
    if not data:
        sys.stderr.write("guest_run: the guest's port closed\n")
        sys.exit(125)
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        line = line.decode(errors="replace").rstrip("\r")
        if line.startswith(ident + ": "):
            print(line[len(ident) + 2:], flush=True)
        elif line.startswith(ident + "= "):
            sys.exit(int(line[len(ident) + 2:]))
PY
}

stop_backup_domain () {
  local name="$1" n keep=()
  virsh -q -c "$libvirt_uri" destroy "$name" > /dev/null 2>&1 || true
  virsh -q -c "$libvirt_uri" undefine --checkpoints-metadata "$name" > /dev/null ||
    fail "virsh undefine $name"
  for n in "${backup_domain_names[@]}"; do
    [ "$n" = "$name" ] || keep+=("$n")
  done
  backup_domain_names=("${keep[@]}")
}
