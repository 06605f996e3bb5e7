#!/bin/sh
# run_guest.sh NESTBOX GUEST.elf [extra args] — run one test guest; the
# guest exits through isa-debug-exit with 0 on success, which nestbox (like
# QEMU) reports as status 1. Map that to 0 for ctest.
nb=$1
elf=$2
shift 2
"$nb" -machine bare -kernel "$elf" -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
	--timeout 120 "$@"
rc=$?
[ $rc -eq 1 ] && exit 0
echo "run_guest: $elf ended with status $rc" >&2
exit 1
