#!/bin/sh
# kvm_l2.sh NESTBOX SRC [KVM_INTEL_ARGS] — Debian's kernel on nestbox with
# VMX (still behind the development switch +vmx-unfinished) loads kvm and
# kvm_intel from the same kernel package, and tests/e2e/kvm/kvm_l2.c runs an
# L2 guest through /dev/kvm (with EPT, or KVM's shadow paging with ept=0).
set -e
NB=$1
SRC=$2
ARGS=${3:-}
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
gcc -static -O2 -o "$T/kvm_l2" "$SRC/tests/e2e/kvm/kvm_l2.c"
mkdir "$T/root"
(cd "$T/root" && gzip -dc "$CACHE/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$T/root/mods"
cp "$CACHE"/modules/*/kernel/arch/x86/kvm/kvm.ko "$CACHE"/modules/*/kernel/arch/x86/kvm/kvm-intel.ko \
	"$CACHE"/modules/*/kernel/virt/lib/irqbypass.ko "$T/root/mods/"
cp "$T/kvm_l2" "$T/root/bin/"
echo "insmod /mods/irqbypass.ko && insmod /mods/kvm.ko && insmod /mods/kvm-intel.ko nested=1 $ARGS && dmesg | grep -iE 'kvm|vmx' ; /bin/kvm_l2" \
	>"$T/root/etc/nestbox-cmd"
(cd "$T/root" && find . | cpio -o -H newc --quiet | gzip) >"$T/initramfs.gz"
set +e
"$NB" -m 512 -cpu max,+vmx-unfinished -kernel "$CACHE/vmlinuz" -initrd "$T/initramfs.gz" \
	-append "console=ttyS0 quiet" -serial stdio --timeout 900 \
	--expect 'kvm_l2: L2 wrote 2 bytes and halted: PASS' --fail-on 'kvm_l2: .*FAIL|Call Trace' \
	>"$T/log" 2>&1
rc=$?
set -e
tr -d '\r' <"$T/log" | grep -E 'kvm|nestbox:' | tail -8
[ $rc -eq 0 ] || { echo "kvm_l2: nestbox status $rc" >&2; tr -d '\r' <"$T/log" | tail -30 >&2; exit 1; }
if tr -d '\r' <"$T/log" | grep -iE 'kvm.*(error|fail|disabled)'; then
	echo "kvm_l2: errors in dmesg" >&2
	exit 1
fi
echo "kvm_l2: passed ($ARGS)"
