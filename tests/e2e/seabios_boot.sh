#!/bin/sh
# seabios_boot.sh NESTBOX SRC disk|cdrom|menu — SeaBIOS (Debian's seabios
# package, the pc board's default firmware) boots a disk image or an El
# Torito ISO made here from tests/e2e/bootsector.S; the boot sector prints
# its marker on COM1 and exits through isa-debug-exit with status 1. "menu":
# with -boot menu=on and --realtime, the test presses ESC on the serial
# console when SeaBIOS offers its boot menu, then picks the disk with "1".
set -e
NB=$1
SRC=$2
KIND=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
as --32 "$SRC/tests/e2e/bootsector.S" -o "$T/boot.o"
ld -m elf_i386 -Ttext 0 --oformat binary -o "$T/boot.bin" "$T/boot.o"
if [ "$KIND" = disk ] || [ "$KIND" = menu ]; then
	cp "$T/boot.bin" "$T/disk.img"
	truncate -s 1M "$T/disk.img"
	MEDIA="-drive file=$T/disk.img,format=raw,if=ide"
else
	mkdir "$T/iso"
	cp "$T/boot.bin" "$T/iso/boot.bin"
	xorriso -as mkisofs -quiet -b boot.bin -no-emul-boot -boot-load-size 4 \
		-o "$T/boot.iso" "$T/iso" 2>/dev/null
	MEDIA="-cdrom $T/boot.iso -boot d"
fi
set +e
if [ "$KIND" = menu ]; then
	# Keys go in through a FIFO once the prompt is on the console.
	mkfifo "$T/keys"
	(
		exec 3>"$T/keys"
		i=0
		until grep -q "Press ESC for boot menu" "$T/log" 2>/dev/null; do
			sleep 0.05
			i=$((i + 1))
			[ $i -gt 2000 ] && exit 0
		done
		printf '\033' >&3
		until grep -q "Select boot device" "$T/log" 2>/dev/null; do
			sleep 0.05
			i=$((i + 1))
			[ $i -gt 4000 ] && exit 0
		done
		printf '1' >&3
		sleep 30
	) &
	KEYS=$!
	# shellcheck disable=SC2086
	"$NB" -m 64 $MEDIA -boot menu=on -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
		--realtime --timeout 300 --expect 'nestbox-bootsector: booted by the BIOS' \
		<"$T/keys" >"$T/log" 2>&1
	rc=$?
	kill $KEYS 2>/dev/null
	wait $KEYS 2>/dev/null
	grep -q "Select boot device" "$T/log" || { echo "seabios_boot: no boot menu" >&2; rc=99; }
else
	# shellcheck disable=SC2086
	"$NB" -m 64 $MEDIA -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
		--timeout 300 --expect 'nestbox-bootsector: booted by the BIOS' >"$T/log" 2>&1
	rc=$?
fi
set -e
tail -3 "$T/log"
[ $rc -eq 1 ] || { echo "seabios_boot: status $rc (want 1)" >&2; exit 1; }
echo "seabios_boot: $KIND booted"
