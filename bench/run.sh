#!/bin/sh
# make bench: guest MIPS for the integer, memory and SSE benchmark guests,
# each run on nestbox and, when qemu-system-x86_64 is installed, on QEMU TCG
# in the same run (wall-clock seconds and the ratio). Timing is informative,
# never a pass/fail test.
BUILD=${1:-build}
NB="$BUILD/nestbox"
QEMU=$(command -v qemu-system-x86_64 || true)
printf "%-10s %14s %9s %9s %9s %8s\n" guest instructions "nestbox s" "MIPS(cpu)" "qemu s" ratio
for b in bench_int bench_mem bench_sse; do
	elf="$BUILD/bench/$b.elf"
	out=$("$NB" -machine bare -m 64 -kernel "$elf" -debugcon none -device isa-debug-exit,iobase=0xf4,iosize=4 \
		--timeout 300 2>&1 >/dev/null | tail -1)
	insns=$(echo "$out" | sed -n 's/.* \([0-9]*\) instructions in .*/\1/p')
	secs=$(echo "$out" | sed -n 's/.* instructions in \([0-9.]*\) s.*/\1/p')
	mips=$(echo "$out" | sed -n 's/.*CPU, \([0-9]*\) MIPS.*/\1/p')
	qs="-"
	ratio="-"
	if [ -n "$QEMU" ]; then
		t0=$(date +%s.%N)
		timeout 300 "$QEMU" -m 64 -display none -nodefaults -accel tcg -kernel "$elf" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 >/dev/null 2>&1
		t1=$(date +%s.%N)
		qs=$(echo "$t1 - $t0" | bc -l | xargs printf "%.2f")
		[ -n "$secs" ] && ratio=$(echo "$secs / $qs" | bc -l | xargs printf "%.2f")
	fi
	printf "%-10s %14s %9s %9s %9s %8s\n" "$b" "$insns" "$secs" "$mips" "$qs" "$ratio"
done
echo "(ratio = nestbox time / QEMU TCG time; QEMU's time includes its start-up)"

# Linux boot: Debian's cloud kernel + the busybox initramfs to power-off, on
# nestbox and on QEMU TCG, same kernel, same initramfs, same command line.
CACHE=${NESTBOX_CACHE:-$(dirname "$0")/../cache}
if sh "$(dirname "$0")/../scripts/fetch-guest.sh" "$CACHE" >/dev/null 2>&1; then
	APPEND="console=ttyS0 quiet nestbox.cmd=true"
	t0=$(date +%s.%N)
	"$NB" -m 256 -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.cpio.gz" \
		-append "$APPEND" -serial none --timeout 600 --quiet
	t1=$(date +%s.%N)
	nbs=$(echo "$t1 - $t0" | bc -l | xargs printf "%.2f")
	if [ -n "$QEMU" ]; then
		t0=$(date +%s.%N)
		timeout 600 "$QEMU" -accel tcg -m 256 -display none -nodefaults -serial none \
			-no-reboot -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.cpio.gz" \
			-append "$APPEND" >/dev/null 2>&1
		t1=$(date +%s.%N)
		qs=$(echo "$t1 - $t0" | bc -l | xargs printf "%.2f")
		ratio=$(echo "$nbs / $qs" | bc -l | xargs printf "%.2f")
	else
		qs="-"
		ratio="-"
	fi
	echo
	printf "%-22s %10s %10s %8s\n" "Linux boot to poweroff" "nestbox s" "qemu s" ratio
	printf "%-22s %10s %10s %8s\n" "1 vCPU, 256 MiB" "$nbs" "$qs" "$ratio"
else
	echo "(Linux boot benchmark skipped: guest material could not be fetched)"
fi
