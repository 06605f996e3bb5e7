#!/bin/sh
# kvm_l2_linux.sh NESTBOX SRC [intel|amd] — the real thing: Debian's kernel
# on nestbox (L1) loads KVM and runs Debian's qemu-system-x86_64
# -enable-kvm, which boots the same kernel and busybox initramfs as an L2
# Linux guest; L2 prints "L2 42" and powers off, then L1 powers off. The
# host's QEMU binary, its shared libraries and firmware are copied into the
# L1 initramfs. VMX/SVM are still behind the development switches. With
# KVM_L2_INITRD_OUT=FILE it only writes that initramfs to FILE.
set -e
NB=$1
SRC=$2
VENDOR=${3:-intel}
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
R="$T/root"
mkdir "$R"
(cd "$R" && gzip -dc "$CACHE/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$R/mods" "$R/l2" "$R/usr/bin" "$R/usr/share/qemu" "$R/usr/share/seabios"
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
cp "$CACHE/vmlinuz" "$R/l2/vmlinuz"
cp "$CACHE/initramfs.cpio.gz" "$R/l2/initrd.gz"
cat >"$R/etc/nestbox-cmd" <<'CMD'
insmod /mods/irqbypass.ko && insmod /mods/kvm.ko && insmod /mods/KMOD.ko nested=1 && qemu-system-x86_64 -enable-kvm -cpu host -m 160 -nodefaults -display none -serial stdio -no-reboot -kernel /l2/vmlinuz -initrd /l2/initrd.gz -append "console=ttyS0 quiet nestbox.cmd=echo+L2+$((6*7))"
CMD
sed -i "s/KMOD/$KMOD/" "$R/etc/nestbox-cmd"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$T/l1.gz"
# bench/run.sh borrows the L1 initramfs to time the same run elsewhere.
if [ -n "${KVM_L2_INITRD_OUT:-}" ]; then
	cp "$T/l1.gz" "$KVM_L2_INITRD_OUT"
	exit 0
fi
set +e
"$NB" -m 1024 -cpu "$CPU" -kernel "$CACHE/vmlinuz" -initrd "$T/l1.gz" -append "console=ttyS0 quiet" \
	-serial stdio --timeout 1500 --summary --expect '^L2 42' \
	--fail-on 'Kernel panic|end trace|kvm.*(error|fail)' >"$T/log" 2>&1
rc=$?
set -e
tr -d '\r' <"$T/log" | grep -E '^L2 42|reboot: Power down|nestbox:' | tail -6
if [ $rc -ne 0 ]; then
	echo "kvm_l2_linux: nestbox status $rc" >&2
	tr -d '\r' <"$T/log" | tail -40 >&2
	exit 1
fi
n=$(tr -d '\r' <"$T/log" | grep -c 'reboot: Power down')
[ "$n" -eq 2 ] || { echo "kvm_l2_linux: want L2 and L1 power-offs, saw $n" >&2; exit 1; }
echo "kvm_l2_linux: an L2 Linux booted under QEMU/KVM on nestbox ($VENDOR): passed"
