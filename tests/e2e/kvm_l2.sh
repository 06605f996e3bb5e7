#!/bin/sh
# kvm_l2.sh NESTBOX SRC [intel|amd] [MODULE_ARGS] — Debian's kernel on
# nestbox with VMX (intel, -cpu intel, the default) or SVM (amd, -cpu amd),
# loads kvm and
# kvm_intel or kvm_amd from the same kernel package, and
# tests/e2e/kvm/kvm_l2.c runs two L2 guests (real mode; 64-bit with paging,
# MMIO and a memory loop) through /dev/kvm (with EPT/NPT, or KVM's shadow
# paging with ept=0 / npt=0). The vendor may be left out:
# "kvm_l2.sh NESTBOX SRC ept=0" is the Intel run with ept=0.
set -e
NB=$1
SRC=$2
VENDOR=intel
case "${3:-}" in
intel | amd)
	VENDOR=$3
	shift
	;;
esac
ARGS=${3:-}
NOTERR='^$'
if [ "$VENDOR" = amd ]; then
	KMOD=kvm-amd
	CPU=amd
	WORDS='kvm|svm'
	# What kvm_amd npt=0 asks for is not an error.
	case "$ARGS" in *npt=0*) NOTERR='Nested Paging disabled' ;; esac
else
	KMOD=kvm-intel
	CPU=intel
	WORDS='kvm|vmx'
fi
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
gcc -static -O2 -o "$T/kvm_l2" "$SRC/tests/e2e/kvm/kvm_l2.c"
mkdir "$T/root"
(cd "$T/root" && gzip -dc "$CACHE/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$T/root/mods"
cp "$CACHE"/modules/*/kernel/arch/x86/kvm/kvm.ko "$CACHE"/modules/*/kernel/arch/x86/kvm/$KMOD.ko \
	"$CACHE"/modules/*/kernel/virt/lib/irqbypass.ko "$T/root/mods/"
cp "$T/kvm_l2" "$T/root/bin/"
echo "insmod /mods/irqbypass.ko && insmod /mods/kvm.ko && insmod /mods/$KMOD.ko nested=1 $ARGS && dmesg | grep -iE '$WORDS' ; /bin/kvm_l2" \
	>"$T/root/etc/nestbox-cmd"
(cd "$T/root" && find . | cpio -o -H newc --quiet | gzip) >"$T/initramfs.gz"
set +e
"$NB" -m 512 -cpu "$CPU" -kernel "$CACHE/vmlinuz" -initrd "$T/initramfs.gz" \
	-append "console=ttyS0 quiet" -serial stdio --timeout 900 \
	--expect 'kvm_l2: all phases PASS' --fail-on 'kvm_l2: .*FAIL|Call Trace' \
	>"$T/log" 2>&1
rc=$?
set -e
tr -d '\r' <"$T/log" | grep -E 'kvm|nestbox:' | tail -8
[ $rc -eq 0 ] || { echo "kvm_l2: nestbox status $rc" >&2; tr -d '\r' <"$T/log" | tail -30 >&2; exit 1; }
if tr -d '\r' <"$T/log" | grep -iE 'kvm.*(error|fail|disabled)' | grep -v "$NOTERR"; then
	echo "kvm_l2: errors in dmesg" >&2
	exit 1
fi
echo "kvm_l2: passed ($VENDOR $ARGS)"
