#!/bin/sh
# cli_errors.sh NESTBOX — user input is validated with one clear message and
# status 2, and nothing the user owns is modified: unknown and malformed
# options, missing or corrupt kernels, initrds and disk images.
NB=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
# expect STATUS REGEX ARGS... : run nestbox, check status and one stderr line.
expect() {
	want=$1
	re=$2
	shift 2
	"$NB" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ $rc -ne "$want" ] || ! grep -Eq -e "$re" "$T/err"; then
		echo "FAIL: nestbox $* -> status $rc (want $want), stderr:" >&2
		cat "$T/err" >&2
		fails=$((fails + 1))
	fi
}
printf 'not a kernel' >"$T/junk"
printf 'QFI\373rest of a qcow2 header' >"$T/disk.qcow2"
head -c 1000 /dev/zero >"$T/odd.img"
expect 2 "unknown option '--frobnicate'" --frobnicate
expect 2 "needs an argument" -m
expect 2 "-m banana" -m banana -kernel "$T/junk"
expect 2 "-smp 0" -smp 0 -kernel "$T/junk"
expect 2 "unknown CPU feature" -cpu max,+nosuchfeature -kernel "$T/junk"
expect 2 "$T/missing.*(No such file|cannot open)|cannot open.*$T/missing" -kernel "$T/missing"
expect 2 "neither a Linux bzImage nor a Multiboot kernel" -kernel "$T/junk"
expect 2 "not a Multiboot kernel" -machine bare -kernel "$T/junk"
expect 2 "-device nosuchdevice" -device nosuchdevice
expect 2 "qcow2" -drive file="$T/disk.qcow2",format=raw
expect 2 "only format=raw" -drive file="$T/junk",format=qcow2
expect 2 "512" -hda "$T/odd.img"
expect 2 "missing" -hda "$T/missing"
expect 2 "not a valid regular expression" --expect '(' -kernel "$T/junk"
expect 2 "unknown network backend" -netdev tap,id=n0
expect 2 "needs id=" -netdev user
expect 2 "no -netdev with id 'n1'" -netdev user,id=n0 -device virtio-net-pci,netdev=n1
expect 2 "more than one NIC" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 -device virtio-net-pci,netdev=n0
expect 2 "not a unicast MAC" -device virtio-net-pci,mac=01:00:00:00:00:01
expect 2 "bad value for hostfwd" -netdev user,id=n0,hostfwd=tcp::99999-:22
expect 2 "unknown user-mode option" -netdev user,id=n0,frob=1
expect 2 "hubport needs hubid" -netdev hubport,id=h0
expect 2 "-vga cirrus" -vga cirrus
expect 2 "--guest-timeout" --guest-timeout -1
expect 2 "unknown property 'mem-lok'" -overcommit mem-lok=on
expect 2 "value must be on or off" -overcommit cpu-pm=yes
# Nothing the user owns was modified.
[ "$(cat "$T/junk")" = "not a kernel" ] || { echo "FAIL: kernel file modified" >&2; fails=$((fails + 1)); }
if [ $fails -ne 0 ]; then
	echo "cli_errors: $fails failures" >&2
	exit 1
fi
echo "cli_errors: all passed"
