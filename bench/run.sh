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

# Nested: L1 Linux loads KVM and boots an L2 Linux under qemu-system-x86_64
# -enable-kvm (tests/e2e/kvm_l2_linux.sh), on nestbox with VMX and with SVM,
# and on QEMU TCG with nested SVM (its only nested mode) as the yardstick;
# then the same one level deeper (an L3 Linux under KVM inside the L2).
if [ -n "$QEMU" ] && [ -f "$CACHE/vmlinuz" ]; then
	E2E="$(dirname "$0")/../tests/e2e/kvm_l2_linux.sh"
	SRC="$(cd "$(dirname "$0")/.." && pwd)"
	TMPB=$(mktemp -d)
	for d in 2 3; do
		KVM_L2_INITRD_OUT="$TMPB/intel$d.gz" sh "$E2E" "$NB" "$SRC" intel $d
		KVM_L2_INITRD_OUT="$TMPB/amd$d.gz" sh "$E2E" "$NB" "$SRC" amd $d
	done
	run_nested() { # marker, command...
		mark=$1
		shift
		t0=$(date +%s.%N)
		if "$@" 2>&1 | tr -d '\r' | grep -q "^$mark"; then
			t1=$(date +%s.%N)
			echo "$t1 - $t0" | bc -l | xargs printf "%.2f"
		else
			echo "failed"
		fi
	}
	# Ratio to QEMU TCG's nested SVM run (the only nested mode it has).
	ratio_to() {
		case "$1$2" in
		*failed*) echo "-" ;;
		*) echo "$1 / $2" | bc -l | xargs printf "%.2f" ;;
		esac
	}
	echo
	printf "%-34s %10s %8s\n" "L1 + KVM + nested Linux boot" "seconds" "ratio"
	for d in 2 3; do
		mem=1024
		[ $d -eq 3 ] && mem=1536
		vmx=$(run_nested "L$d 42" "$NB" -cpu intel -m $mem -kernel "$CACHE/vmlinuz" \
			-initrd "$TMPB/intel$d.gz" -append "console=ttyS0 quiet" -serial stdio --timeout 1800)
		svm=$(run_nested "L$d 42" "$NB" -cpu amd -m $mem -kernel "$CACHE/vmlinuz" \
			-initrd "$TMPB/amd$d.gz" -append "console=ttyS0 quiet" -serial stdio --timeout 1800)
		qsvm=$(run_nested "L$d 42" timeout 1800 "$QEMU" -accel tcg -cpu max,+svm -m $mem \
			-display none -nodefaults -serial stdio -no-reboot -kernel "$CACHE/vmlinuz" \
			-initrd "$TMPB/amd$d.gz" -append "console=ttyS0 quiet")
		printf "%-34s %10s %8s\n" "L$d: nestbox, VMX (kvm_intel)" "$vmx" "$(ratio_to "$vmx" "$qsvm")"
		printf "%-34s %10s %8s\n" "L$d: nestbox, SVM (kvm_amd)" "$svm" "$(ratio_to "$svm" "$qsvm")"
		printf "%-34s %10s %8s\n" "L$d: QEMU TCG, nested SVM" "$qsvm" "1.00"
	done
	rm -rf "$TMPB"
	echo "(ratio = time / QEMU TCG's nested SVM time at the same depth)"
fi
