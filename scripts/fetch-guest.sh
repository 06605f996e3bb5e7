#!/bin/sh
# Fetch the guest material nestbox's end-to-end tests and demo boot, from
# Debian's archive with apt-get download (never committed), into a cache:
#   $CACHE/vmlinuz            Debian's current cloud kernel
#   $CACHE/modules/           its modules (lib/modules/<version>)
#   $CACHE/initramfs.cpio.gz  busybox init: mounts proc/sys/dev, prints
#                             "nestbox-initramfs: up", runs the command given
#                             as nestbox.cmd=... (or /etc/nestbox-cmd), then
#                             powers off
# Usage: scripts/fetch-guest.sh [CACHE]   (default: cache/ in the source tree)
set -e
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${1:-${NESTBOX_CACHE:-$SRC/cache}}
mkdir -p "$CACHE/deb"
CACHE=$(cd "$CACHE" && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

have_lists() { apt-cache policy busybox-static 2>/dev/null | grep -q 'Candidate: [0-9]'; }
have_lists || $SUDO apt-get update -qq

KPKG=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$KPKG" ]; then
	echo "fetch-guest: cannot resolve linux-image-cloud-amd64 in Debian's package lists" >&2
	exit 1
fi
cd "$CACHE/deb"
for p in "$KPKG" busybox-static; do
	ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p"
done

if [ ! -f "$CACHE/vmlinuz" ] || [ ! -f "$CACHE/.kernel-$KPKG" ]; then
	rm -rf "$CACHE/kroot"
	dpkg-deb -x "$CACHE/deb/${KPKG}"_*.deb "$CACHE/kroot"
	cp "$CACHE"/kroot/boot/vmlinuz-* "$CACHE/vmlinuz"
	rm -rf "$CACHE/modules"
	mv "$CACHE/kroot/lib/modules" "$CACHE/modules"
	rm -rf "$CACHE/kroot"
	rm -f "$CACHE"/.kernel-*
	touch "$CACHE/.kernel-$KPKG"
fi

# The initramfs: busybox and a small /init.
R="$CACHE/initramfs.root"
rm -rf "$R"
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp" "$R/lib/modules"
dpkg-deb --fsys-tarfile "$CACHE/deb/"busybox-static_*.deb | tar -x -O ./bin/busybox >"$R/bin/busybox"
chmod 755 "$R/bin/busybox"
cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "nestbox-initramfs: up"
cmd=$(sed -n 's/.*nestbox\.cmd=\([^ ]*\).*/\1/p' /proc/cmdline | sed 's/+/ /g')
[ -z "$cmd" ] && [ -f /etc/nestbox-cmd ] && cmd=$(cat /etc/nestbox-cmd)
if [ -n "$cmd" ]; then
	echo "nestbox-initramfs: running: $cmd"
	sh -c "$cmd"
	echo "nestbox-initramfs: command status $?"
fi
echo "nestbox-initramfs: powering off"
poweroff -f
INIT
chmod 755 "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) >"$CACHE/initramfs.cpio.gz"
rm -rf "$R"
echo "fetch-guest: kernel $KPKG, initramfs ready in $CACHE"
