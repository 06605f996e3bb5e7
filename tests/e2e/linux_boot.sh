#!/bin/sh
# linux_boot.sh NESTBOX SRC SMP — boot Debian's cloud kernel with the busybox
# initramfs (fetched by scripts/fetch-guest.sh into the cache), run
# `cat /proc/cpuinfo` and power off; pass if the marker appears, the right
# number of CPUs is online and the run ends through ACPI power-off (status 0).
set -e
NB=$1
SRC=$2
SMP=${3:-1}
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
LOG=$(mktemp)
RAW=$(mktemp)
trap 'rm -f "$LOG" "$RAW"' EXIT
set +e
"$NB" -m 256 -smp "$SMP" -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet nestbox.cmd=cat+/proc/cpuinfo;cat+/sys/devices/system/cpu/online" \
	-serial stdio --timeout 600 --expect 'nestbox-initramfs: command status 0' >"$RAW" 2>&1
rc=$?
tr -d '\r' <"$RAW" >"$LOG"
set -e
tail -3 "$LOG"
if [ $rc -ne 0 ]; then
	echo "linux_boot: nestbox exited with status $rc" >&2
	tail -40 "$LOG" >&2
	exit 1
fi
grep -q "nestbox-initramfs: up" "$LOG" || { echo "linux_boot: no marker" >&2; exit 1; }
n=$(grep -c '^processor' "$LOG")
[ "$n" -eq "$SMP" ] || { echo "linux_boot: $n CPUs in /proc/cpuinfo, want $SMP" >&2; exit 1; }
want=0
[ "$SMP" -gt 1 ] && want="0-$((SMP - 1))"
grep -qx "$want" "$LOG" || { echo "linux_boot: CPUs online is not $want" >&2; exit 1; }
grep -q "reboot: Power down" "$LOG" || { echo "linux_boot: no clean power-off" >&2; exit 1; }
# --guest-timeout: a limit in guest time ends the run with status 124.
if [ "$SMP" -eq 1 ]; then
	set +e
	"$NB" -m 256 -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet" -serial none --guest-timeout 0.2 --timeout 300 >"$RAW" 2>&1
	rc=$?
	set -e
	[ $rc -eq 124 ] && grep -q "guest time limit reached" "$RAW" ||
		{ echo "linux_boot: --guest-timeout 0.2 gave status $rc" >&2; cat "$RAW" >&2; exit 1; }
fi
echo "linux_boot: passed with $SMP vCPU(s)"
