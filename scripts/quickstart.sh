#!/bin/bash
# Quick start: install what guestkit needs, build it, make a sample guest
# image and run guestkit's virt-df on it.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

bash scripts/setup.sh
bash scripts/build.sh build

# A sample guest: an MBR disk with an ext4 root filesystem holding a small
# Linux tree, made with host tools only (no appliance needed to build it).
sample="$top/build/sample-guest.img"
if [ ! -f "$sample" ]; then
  tree="$(mktemp -d)"
  trap 'rm -rf "$tree"' EXIT
  mkdir -p "$tree/etc" "$tree/bin" "$tree/usr/bin" "$tree/home/user"
  printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' > "$tree/etc/os-release"
  echo sample-guest > "$tree/etc/hostname"
  echo "/dev/sda1 / ext4 defaults 0 1" > "$tree/etc/fstab"
  head -c 4M /dev/urandom > "$tree/home/user/data.bin"
  truncate -s 256M "$sample.tmp"
  printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$sample.tmp"
  mkfs.ext4 -q -F -E offset=$((2048*512)) -d "$tree" -L root "$sample.tmp" $(( (256*1024 - 1024) ))k
  mv "$sample.tmp" "$sample"
fi

echo "+ build/run virt-df -a $sample"
build/run virt-df -a "$sample"
echo "+ build/run virt-df -h -a $sample"
build/run virt-df -h -a "$sample"
