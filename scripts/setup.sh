#!/bin/bash
# Install every Debian package guestkit needs to build, test and benchmark.
# Idempotent and non-interactive: safe to run again; it only installs what is missing.
set -euo pipefail

packages=(
  # build
  build-essential autoconf automake libtool pkg-config perl
  libguestfs-dev libvirt-dev libxml2-dev check
  libreadline-dev  # guestfish's prompt
  libtirpc-dev     # the sanitizer build links it (configure.ac)
  tmux             # guestfish's terminal test
  libfuse3-dev fuse3  # guestmount (the library's mount-local) and fusermount3
  guestmount       # the reference guestmount/guestunmount (fuse/ tests, bench/fuse.sh)
  libext2fs-dev    # the native engine's ext2/3/4 file reader (read-only guestmount)
  zlib1g-dev   # the native engine's GPT and LVM CRCs, qcow2 compressed clusters
  # the native engine: zstd-compressed qcow2 clusters, other formats via qemu-nbd
  libzstd-dev libnbd-dev
  # backups (lib/backup.c): block checksums (SHA-256); virtnbdbackup and
  # qemu's guest agent for bench/backup.sh and the running-domain tests
  libssl-dev virtnbdbackup qemu-guest-agent
  # the iscsi pool backend (libiscsi) and its tests (tgt, iscsi-ls)
  libiscsi-dev libiscsi-bin tgt
  # the lvm pool backend (lvm2 JSON reports)
  libjson-c-dev
  # run time: the appliance (libguestfs needs a host kernel to build it) and qemu
  libguestfs-tools guestfs-tools libguestfs-xfs linux-image-amd64
  qemu-utils qemu-system-x86
  qemu-block-extra  # qemu's rbd and iscsi drivers (running domains on rbd volumes)
  # the reference tools and the test libvirtd (with the storage drivers for
  # the rbd and iscsi-direct pool types: the virsh interop tests define them)
  libvirt-daemon-system libvirt-clients virtinst swtpm swtpm-tools  # virt-manager's virt-clone; TPM domains
  libvirt-daemon-driver-storage-rbd libvirt-daemon-driver-storage-iscsi-direct
  # xmllint for the interop tests; bash-completion for guestkit.bash's test
  libxml2-utils bash-completion
  # the rbd pool backend and its test cluster (mon + memstore OSD on loopback)
  ceph-mon ceph-osd ceph-common librbd-dev librados-dev
  # test image builders and checkers
  e2fsprogs xfsprogs btrfs-progs dosfstools lvm2 fdisk gdisk parted python3
  mtools ntfs-3g  # vfat and ntfs test volumes (mcopy; mkntfs, ntfs-3g, ntfscp)
  # the test VM for device-mapper (tests/testvm.sh): its initramfs, thin pools
  busybox-static cpio thin-provisioning-tools
  # make check-valgrind and sanitizer builds
  valgrind clang
  # benchmarks (peak memory)
  time
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (it installs Debian packages)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
    missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Daemons from these packages must not start inside the build machine:
  # the tests start their own by PID.
  policy=/usr/sbin/policy-rc.d
  created_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  trap '[ -n "$created_policy" ] && rm -f "$policy"' EXIT
  # Wait for another apt/dpkg run rather than fail on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup.sh: all ${#packages[@]} packages present"
