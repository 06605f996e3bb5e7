#!/bin/sh
# make demo: until the PC platform boots Linux with KVM, run the CPU's own
# demo guest (long mode, paging, integer/x87/SSE work) headless and say what
# it showed.
set -e
BUILD=${1:-build}
GUEST="$BUILD/roms/demo/demo.elf"
if [ ! -f "$GUEST" ]; then
	echo "demo: $GUEST was not built" >&2
	exit 1
fi
echo "demo: booting the nestbox demo guest (Multiboot, bare board)"
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
echo "demo: nestbox ran the guest in 64-bit long mode: SSE2 Mandelbrot and a prime sieve."
echo "demo: (Linux with KVM at L1 and an L2 guest becomes the demo once VMX is finished.)"
