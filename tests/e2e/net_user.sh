#!/bin/sh
# net_user.sh NESTBOX SRC — guest networking end to end: Debian's kernel
# loads virtio-net (modules from the same package) for a
# `-netdev user -device virtio-net-pci` NIC, gets its address by DHCP from
# the user-mode stack, pings the gateway, and fetches a file over TCP from
# an HTTP server on the host's loopback (10.0.2.2 is the host, as in QEMU).
# The server is the host-side busybox from the cache (busybox httpd).
set -e
NB=$1
SRC=$2
CACHE=${NESTBOX_CACHE:-$SRC/cache}
sh "$SRC/scripts/fetch-guest.sh" "$CACHE" >/dev/null
CACHE=$(cd "$CACHE" && pwd)
T=$(mktemp -d)
SRV=""
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
dpkg-deb --fsys-tarfile "$CACHE"/deb/busybox-static_*.deb | tar -x -O ./bin/busybox >"$T/busybox"
chmod 755 "$T/busybox"
mkdir -p "$T/www"
TOKEN="nestbox-net-$$-$(date +%s)"
echo "$TOKEN" >"$T/www/token.txt"
# A free port on the host: try a few.
PORT=""
for p in $((20000 + $$ % 20000)) $((21000 + $$ % 19000)) $((22000 + $$ % 18000)); do
	"$T/busybox" httpd -f -p 127.0.0.1:$p -h "$T/www" &
	SRV=$!
	sleep 0.5
	if kill -0 $SRV 2>/dev/null; then
		PORT=$p
		break
	fi
	SRV=""
done
[ -n "$PORT" ] || { echo "net_user: cannot start the host HTTP server" >&2; exit 1; }

mkdir "$T/root"
(cd "$T/root" && gzip -dc "$CACHE/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$T/root/mods"
K=$(echo "$CACHE"/modules/*/kernel)
MODS="net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring drivers/virtio/virtio
      drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
      drivers/virtio/virtio_pci drivers/net/virtio_net"
LOAD=""
for m in $MODS; do
	cp "$K/$m.ko" "$T/root/mods/"
	LOAD="$LOAD insmod /mods/$(basename $m).ko &&"
done
cat >"$T/root/etc/nestbox-cmd" <<CMD
$LOAD ip link set eth0 up && udhcpc -i eth0 -n -q -s /bin/true && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 && ping -c 1 10.0.2.2 && wget -q -O - http://10.0.2.2:$PORT/token.txt
CMD
(cd "$T/root" && find . | cpio -o -H newc --quiet | gzip) >"$T/initramfs.gz"
set +e
"$NB" -m 256 -kernel "$CACHE/vmlinuz" -initrd "$T/initramfs.gz" -append "console=ttyS0 quiet" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:ab:cd:ef \
	-serial stdio --timeout 300 --expect 'nestbox-initramfs: command status 0' >"$T/log" 2>&1
rc=$?
set -e
tr -d '\r' <"$T/log" >"$T/log2"
grep -E "udhcpc|packets|$TOKEN|command status" "$T/log2" || true
if [ $rc -ne 0 ]; then
	echo "net_user: nestbox exited with status $rc" >&2
	tail -30 "$T/log2" >&2
	exit 1
fi
grep -q "lease of 10.0.2.15 obtained" "$T/log2" || { echo "net_user: no DHCP lease" >&2; exit 1; }
grep -q "1 packets received" "$T/log2" || { echo "net_user: no ping reply" >&2; exit 1; }
grep -qx "$TOKEN" "$T/log2" || { echo "net_user: file not fetched over TCP" >&2; exit 1; }
echo "net_user: DHCP, ICMP and TCP through -netdev user: passed"
