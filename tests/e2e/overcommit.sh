#!/bin/sh
# overcommit.sh NESTBOX SRC — -overcommit mem-lock=on locks guest RAM in
# host memory (the process's VmLck covers it while Linux boots) and the run
# still passes; without it nothing is locked. cpu-pm=on is accepted.
NB=$1
SRC=$2
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null || exit 1
# locked_kib ARGS...: boot Linux to power-off, print VmLck (KiB) sampled
# during the run, fail if the boot fails.
locked_kib() {
	"$NB" -m 128 -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet nestbox.cmd=true" -serial none --timeout 300 "$@" &
	pid=$!
	sleep 1
	kib=$(awk '/^VmLck:/ {print $2}' /proc/$pid/status 2>/dev/null)
	wait $pid || { echo "overcommit: nestbox $* failed" >&2; exit 1; }
	echo "${kib:-0}"
}
on=$(locked_kib -overcommit mem-lock=on,cpu-pm=on)
off=$(locked_kib -overcommit mem-lock=off)
echo "overcommit: VmLck $on KiB with mem-lock=on, $off KiB with mem-lock=off"
[ "$on" -ge 131072 ] || { echo "overcommit: guest RAM (128 MiB) not locked" >&2; exit 1; }
[ "$off" -eq 0 ] || { echo "overcommit: memory locked without mem-lock" >&2; exit 1; }
echo "overcommit: passed"
