#!/bin/sh
# q35_boot.sh NESTBOX SRC [iommu] — boot Debian's cloud kernel with the
# busybox initramfs on -machine q35 with 2 vCPUs and power off; pass if the
# initramfs marker appears, both CPUs are online, Linux found the PCI
# Express root (PNP0A08) with its MMCONFIG window, and the run ends through
# ACPI power-off. "iommu": add -device intel-iommu,intremap=on,eim=off and
# -device edu and boot with intel_iommu=on; Linux must enable DMA remapping
# with queued invalidation and interrupt remapping (IOAPIC interrupts go
# through it: IR-IO-APIC) and report no DMAR fault.
set -e
NB=$1
SRC=$2
MODE=${3:-plain}
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
LOG=$(mktemp)
RAW=$(mktemp)
trap 'rm -f "$LOG" "$RAW"' EXIT
DEV=""
APPEND="console=ttyS0"
if [ "$MODE" = iommu ]; then
	DEV="-device intel-iommu,intremap=on,eim=off -device edu"
	APPEND="$APPEND intel_iommu=on"
fi
set +e
# shellcheck disable=SC2086
"$NB" -M q35,kernel-irqchip=split $DEV -m 256 -smp 2 -kernel "$CACHE/vmlinuz" \
	-initrd "$CACHE/initramfs.cpio.gz" \
	-append "$APPEND nestbox.cmd=cat+/sys/devices/system/cpu/online;cat+/proc/interrupts" \
	-serial stdio --timeout 600 --expect 'nestbox-initramfs: command status 0' >"$RAW" 2>&1
rc=$?
tr -d '\r' <"$RAW" >"$LOG"
set -e
fail() {
	echo "q35_boot ($MODE): $1" >&2
	tail -40 "$LOG" >&2
	exit 1
}
[ $rc -eq 0 ] || fail "nestbox exited with status $rc"
grep -q "nestbox-initramfs: up" "$LOG" || fail "no initramfs marker"
grep -qx "0-1" "$LOG" || fail "CPUs online is not 0-1"
grep -q "acpi PNP0A08:00" "$LOG" || fail "no PCI Express root bridge (PNP0A08)"
grep -q "PCI: MMCONFIG at \[mem 0xb0000000-0xbfffffff\] reserved" "$LOG" ||
	fail "MMCONFIG window not found or not reserved"
grep -q "pci 0000:00:1f.0: \[8086:2918\]" "$LOG" || fail "no ICH9 LPC bridge"
grep -q "reboot: Power down" "$LOG" || fail "no clean power-off"
if [ "$MODE" = iommu ]; then
	grep -q "DMAR: IOMMU enabled" "$LOG" || fail "DMAR not enabled"
	grep -q "DMAR-IR: Enabled IRQ remapping in xapic mode" "$LOG" ||
		fail "interrupt remapping not enabled"
	grep -q "DMAR: dmar0: Using Queued invalidation" "$LOG" || fail "no queued invalidation"
	grep -q "IR-IO-APIC" "$LOG" || fail "IOAPIC interrupts are not remapped"
	# edu follows the VGA (00:01.0) in the first free slot.
	grep -q "pci 0000:00:02.0: \[1234:11e8\]" "$LOG" || fail "no edu device at 00:02.0"
	grep -q "pci 0000:00:02.0: Adding to iommu group" "$LOG" || fail "edu not behind the IOMMU"
	if grep -q "DMAR: \[\|DMAR: DRHD: handling fault" "$LOG"; then
		fail "DMAR faults reported"
	fi
fi
echo "q35_boot: passed ($MODE)"
