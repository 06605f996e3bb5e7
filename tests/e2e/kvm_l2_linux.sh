#!/bin/sh
# kvm_l2_linux.sh NESTBOX SRC [intel|amd] [DEPTH] — the real thing: Debian's
# kernel on nestbox (L1) loads KVM and runs Debian's qemu-system-x86_64
# -enable-kvm, which boots the same kernel and busybox initramfs as an L2
# Linux guest; L2 prints "L2 42" and powers off, then L1 powers off. The
# host's QEMU binary, its shared libraries and firmware are copied into the
# L1 initramfs. With DEPTH 3 the L2 Linux does the same once more (KVM and
# QEMU inside L2, whose VMX/SVM is L1 KVM's nested virtualization on top of
# nestbox's): an L3 Linux prints "L3 42". With KVM_L2_INITRD_OUT=FILE it only
# writes the L1 initramfs to FILE.
set -e
NB=$1
SRC=$2
VENDOR=${3:-intel}
DEPTH=${4:-2}
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
CACHE=$(cd "$CACHE" && pwd)
QEMU=$(command -v qemu-system-x86_64) || { echo "kvm_l2_linux: qemu-system-x86_64 not installed" >&2; exit 1; }
if [ "$VENDOR" = amd ]; then
	KMOD=kvm-amd
	CPU=amd
else
	KMOD=kvm-intel
	CPU=intel
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# hypervisor_initrd OUT LEVEL INNER_INITRD MEM: the busybox initramfs plus
# KVM modules, QEMU (binary, libraries, firmware) and the next level's
# kernel and initramfs; its init loads KVM (nested=1) and boots level
# LEVEL+1 with MEM MiB.
hypervisor_initrd() {
	out=$1
	level=$2
	inner=$3
	mem=$4
	R="$T/root$level"
	mkdir "$R"
	(cd "$R" && gzip -dc "$CACHE/initramfs.cpio.gz" | cpio -id --quiet)
	mkdir -p "$R/mods" "$R/next" "$R/usr/bin" "$R/usr/share/qemu" "$R/usr/share/seabios"
	K=$(echo "$CACHE"/modules/*/kernel)
	cp "$K/arch/x86/kvm/kvm.ko" "$K/arch/x86/kvm/$KMOD.ko" "$K/virt/lib/irqbypass.ko" "$R/mods/"
	cp "$QEMU" "$R/usr/bin/qemu-system-x86_64"
	for l in $(ldd "$QEMU" | grep -o '/[^ ]*'); do
		mkdir -p "$R$(dirname "$l")"
		cp -L "$l" "$R$l"
	done
	# QEMU's pc machine: SeaBIOS, the option ROM for -kernel, the vAPIC ROM.
	cp -L /usr/share/seabios/bios-256k.bin "$R/usr/share/seabios/"
	for f in linuxboot_dma.bin kvmvapic.bin; do
		cp -L "/usr/share/qemu/$f" "$R/usr/share/qemu/"
	done
	cp "$CACHE/vmlinuz" "$R/next/vmlinuz"
	cp "$inner" "$R/next/initrd.gz"
	next=$((level + 1))
	if [ "$next" -eq "$DEPTH" ]; then
		append="console=ttyS0 quiet nestbox.cmd=echo+L$next+\$((6*7))"
	else
		append="console=ttyS0 quiet"
	fi
	cat >"$R/etc/nestbox-cmd" <<CMD
insmod /mods/irqbypass.ko && insmod /mods/kvm.ko && insmod /mods/$KMOD.ko nested=1 && qemu-system-x86_64 -enable-kvm -cpu host -m $mem -nodefaults -display none -serial stdio -no-reboot -kernel /next/vmlinuz -initrd /next/initrd.gz -append "$append"
CMD
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$R"
}

if [ "$DEPTH" -eq 3 ]; then
	hypervisor_initrd "$T/l2.gz" 2 "$CACHE/initramfs.cpio.gz" 160
	hypervisor_initrd "$T/l1.gz" 1 "$T/l2.gz" 640
	MEM=1536
	MARK="L3 42"
else
	hypervisor_initrd "$T/l1.gz" 1 "$CACHE/initramfs.cpio.gz" 160
	MEM=1024
	MARK="L2 42"
fi
# bench/run.sh borrows the L1 initramfs to time the same run elsewhere.
if [ -n "${KVM_L2_INITRD_OUT:-}" ]; then
	cp "$T/l1.gz" "$KVM_L2_INITRD_OUT"
	exit 0
fi
set +e
"$NB" -m $MEM -cpu "$CPU" -kernel "$CACHE/vmlinuz" -initrd "$T/l1.gz" -append "console=ttyS0 quiet" \
	-serial stdio --timeout 3000 --summary --expect "^$MARK" \
	--fail-on 'Kernel panic|end trace|kvm.*(error|fail)' >"$T/log" 2>&1
rc=$?
set -e
tr -d '\r' <"$T/log" | grep -E "^$MARK|reboot: Power down|nestbox:" | tail -6
if [ $rc -ne 0 ]; then
	echo "kvm_l2_linux: nestbox status $rc" >&2
	tr -d '\r' <"$T/log" | tail -40 >&2
	exit 1
fi
n=$(tr -d '\r' <"$T/log" | grep -c 'reboot: Power down')
[ "$n" -eq "$DEPTH" ] || { echo "kvm_l2_linux: want $DEPTH power-offs (one per level), saw $n" >&2; exit 1; }
echo "kvm_l2_linux: an L$DEPTH Linux booted under QEMU/KVM nested $DEPTH deep on nestbox ($VENDOR): passed"
