#!/bin/sh
# Install the Debian packages nestbox needs to build and test (and, with the
# argument "bench", to benchmark against QEMU); do nothing when all are
# present. Uses sudo when not root.
set -e
# Build and test: the toolchain, the libraries, 32-bit libgcc for the test
# guests, cpio for the initramfs, SeaBIOS (default firmware of the pc board),
# clang-format (the style check), QEMU (the L2 hypervisor of the nested e2e
# tests, and the yardstick of make bench).
PKGS="cmake make gcc libc6-dev pkg-config libcapstone-dev check zlib1g-dev libsdl2-dev libslirp-dev
      binutils gcc-multilib cpio seabios xorriso clang-format qemu-system-x86"
# `scripts/deps.sh bench` adds QEMU, the yardstick of make bench.
[ "$1" = bench ] && PKGS="$PKGS bc"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; } \
	>"$log" 2>&1; then
	cat "$log" >&2
	echo "deps: apt-get failed installing:$missing" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
