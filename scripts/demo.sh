#!/bin/sh
# make demo: the CPU's own demo guest (long mode, SSE2, x87) on the bare
# board, then the headline: Debian's Linux kernel on nestbox's software VT-x
# loads KVM (kvm_intel nested=1, modules from the same kernel package) and
# runs an L2 guest through /dev/kvm (tests/e2e/kvm_l2.sh: the guest does
# port I/O and HLT, and the L1 program checks what came back). Headless.
set -e
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
GUEST="$BUILD/roms/demo/demo.elf"
if [ ! -f "$GUEST" ]; then
	echo "demo: $GUEST was not built" >&2
	exit 1
fi
echo "demo: 1/2 the nestbox demo guest (Multiboot, bare board)"
set +e
"$BUILD/nestbox" -machine bare -kernel "$GUEST" -debugcon stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=4 --timeout 60 --expect 'demo: done'
rc=$?
set -e
# The guest reports success through isa-debug-exit with 0: status (0<<1)|1.
if [ $rc -ne 1 ]; then
	echo "demo: the guest did not finish cleanly (status $rc)" >&2
	exit 1
fi
echo "demo: 2/2 Debian's Linux at L1 with KVM on nestbox's VMX, an L2 guest through /dev/kvm"
echo "demo: (fetching the kernel from Debian's archive on first use)"
sh "$SRC/tests/e2e/kvm_l2.sh" "$(cd "$(dirname "$BUILD/nestbox")" && pwd)/nestbox" "$SRC"
echo "demo: done: L1 Linux loaded kvm_intel on emulated VT-x and ran an L2 guest."
