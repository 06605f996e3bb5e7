#!/bin/sh
# run_guest_status.sh NESTBOX GUEST.elf STATUS [extra args] — run one test
# guest that must end with the given nestbox exit status (e.g. 3 = guest
# crashed, for the g*_triple* guests that triple-fault on purpose).
nb=$1
elf=$2
want=$3
shift 3
"$nb" -machine bare -kernel "$elf" -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
	--timeout 120 "$@"
rc=$?
[ $rc -eq "$want" ] && exit 0
echo "run_guest_status: $elf ended with status $rc, expected $want" >&2
exit 1
