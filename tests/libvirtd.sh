# Start and stop a libvirtd for a test, by PID (never by name).
# Source after functions.sh; then:  start_libvirtd; ...; stop_libvirtd
# start_libvirtd registers stop_libvirtd to run on exit.

libvirt_uri=qemu:///system

start_libvirtd () {
  command -v libvirtd >/dev/null || fail "libvirtd is not installed (scripts/setup.sh installs it)"
  if virsh -c "$libvirt_uri" version >/dev/null 2>&1; then
    fail "a libvirtd is already running: stop it first (the test starts its own)"
  fi
  libvirtd_dir="$(mktemp -d)"
  # Stale sockets from a killed daemon would make virsh wait.
  rm -f /var/run/libvirt/libvirt-sock /var/run/libvirt/libvirt-sock-ro \
        /var/run/libvirt/libvirt-admin-sock
  libvirtd -p "$libvirtd_dir/libvirtd.pid" > "$libvirtd_dir/log" 2>&1 &
  libvirtd_pid=$!
  local i
  for i in $(seq 1 300); do
    virsh -c "$libvirt_uri" version >/dev/null 2>&1 && break
    kill -0 "$libvirtd_pid" 2>/dev/null || { cat "$libvirtd_dir/log" >&2; fail "libvirtd exited"; }
    sleep 0.2
  done
  virsh -c "$libvirt_uri" version >/dev/null 2>&1 || { cat "$libvirtd_dir/log" >&2; fail "libvirtd did not answer within 60 s"; }
  trap 'cleanup_libvirt' EXIT
}

# Domains the test defined: undefined again on exit.
defined_domains=()
define_domain () {
  virsh -q -c "$libvirt_uri" define "$1" > /dev/null || fail "virsh define $1"
  defined_domains+=("$2")
}

stop_libvirtd () {
  [ -n "${libvirtd_pid:-}" ] || return 0
  stop_pid "$libvirtd_pid" 100
  libvirtd_pid=
  rm -rf "$libvirtd_dir"
}

cleanup_libvirt () {
  local d
  for d in "${defined_domains[@]}"; do
    virsh -q -c "$libvirt_uri" undefine "$d" > /dev/null 2>&1 || true
  done
  stop_libvirtd
  [ -z "${cleanup_extra:-}" ] || rm -rf "$cleanup_extra"
}
