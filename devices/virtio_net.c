/*
 * devices/virtio_net.c — virtio-net (virtio 1.2 §5.1) over virtio_pci.
 *
 * Packet = struct virtio_net_hdr (§5.1.6) followed by the Ethernet frame:
 *   u8 flags | u8 gso_type | le16 hdr_len | le16 gso_size |
 *   le16 csum_start | le16 csum_offset | le16 num_buffers      (12 bytes)
 * Transmit: the header is read and ignored (no offloads are offered, so
 * flags and gso_type must be 0; the device does not check them), the frame
 * goes to the backend. Receive: the header is all zero except num_buffers,
 * the number of chains used (§5.1.6.4; always 1 without MRG_RXBUF).
 */
#include "devices/virtio_net.h"

#include <stdlib.h>
#include <string.h>

#include "devices/virtio_net_backend.h"
#include "devices/virtio_pci.h"

#define CONFIG_SIZE 12

struct virtio_net {
	struct virtio_pci *v;
	struct net_backend *be;
	struct virtio_dev_ops ops;
	uint8_t mac[6];
	uint16_t status;
	uint64_t rx_dropped;
	/* Separate transmit and receive state: a frame we send may come back
	 * to our receive path before send returns (hub delivery chains). */
	uint8_t tx_frame[VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME];
	uint8_t rx_frame[VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME];
	struct virtq_elem tx, first, cur;
};

/* ---- configuration space (§5.1.4) ---- */

static uint32_t config_read(void *opaque, unsigned off, unsigned size)
{
	struct virtio_net *n = opaque;
	uint8_t c[CONFIG_SIZE];
	memcpy(c, n->mac, 6);
	c[6] = (uint8_t)n->status;
	c[7] = (uint8_t)(n->status >> 8);
	c[8] = 1; /* max_virtqueue_pairs (meaningful only with MQ) */
	c[9] = 0;
	c[10] = 1500 & 0xff; /* mtu (meaningful only with VIRTIO_NET_F_MTU) */
	c[11] = 1500 >> 8;
	uint32_t r = 0;
	for (unsigned i = 0; i < size; i++)
		r |= (uint32_t)c[off + i] << (8 * i);
	return r;
}

/* §5.1.4: mac is writable by the driver when VIRTIO_NET_F_MAC is not
 * negotiated (legacy drivers); accept byte writes to it. */
static void config_write(void *opaque, unsigned off, uint32_t val, unsigned size)
{
	struct virtio_net *n = opaque;
	for (unsigned i = 0; i < size; i++)
		if (off + i < 6 && !virtio_has_feature(n->v, VIRTIO_NET_F_MAC))
			n->mac[off + i] = (uint8_t)(val >> (8 * i));
}

/* ---- transmit (§5.1.6.2) ---- */

static void transmit(struct virtio_net *n)
{
	struct virtq_elem *e = &n->tx;
	for (int k = 0; k < 4 * VIRTQ_MAX_SIZE; k++) {
		if (virtq_pop(n->v, VIRTIO_NET_TXQ, e) <= 0)
			return;
		uint64_t len = e->out_len;
		if (len > VIRTIO_NET_HDR_SIZE && len <= sizeof(n->tx_frame)) {
			virtq_elem_read(n->v, e, 0, n->tx_frame, (size_t)len);
			if (n->be && n->be->send)
				n->be->send(n->be, n->tx_frame + VIRTIO_NET_HDR_SIZE,
					    (size_t)len - VIRTIO_NET_HDR_SIZE);
		}
		virtq_push(n->v, VIRTIO_NET_TXQ, e, 0);
	}
}

static void notify(void *opaque, int q)
{
	if (q == VIRTIO_NET_TXQ)
		transmit(opaque);
	/* RXQ: new buffers; frames that found none were already dropped. */
}

/* ---- receive (§5.1.6.3, §5.1.6.4) ---- */

/* Copy bytes [off, off + k) of the packet (header then frame, both in
 * n->rx_frame) into the writable part of e. */
static void put_packet(struct virtio_net *n, const struct virtq_elem *e, uint64_t off, size_t k)
{
	virtq_elem_write(n->v, e, 0, n->rx_frame + off, k);
}

static void drop(struct virtio_net *n, unsigned popped)
{
	virtq_unpop(n->v, VIRTIO_NET_RXQ, popped);
	n->rx_dropped++;
}

static void receive_locked(struct virtio_net *n, const void *frame, size_t len)
{
	if (!virtq_ready(n->v, VIRTIO_NET_RXQ) || len > VIRTIO_NET_MAX_FRAME) {
		n->rx_dropped++;
		return;
	}
	bool mrg = virtio_has_feature(n->v, VIRTIO_NET_F_MRG_RXBUF);
	size_t total = VIRTIO_NET_HDR_SIZE + len;
	memset(n->rx_frame, 0, VIRTIO_NET_HDR_SIZE);
	memcpy(n->rx_frame + VIRTIO_NET_HDR_SIZE, frame, len);
	unsigned count = 0;
	for (size_t off = 0; off < total; count++) {
		struct virtq_elem *e = count ? &n->cur : &n->first;
		if (count == VIRTQ_MAX_SIZE) {
			drop(n, count);
			return;
		}
		int r = virtq_pop(n->v, VIRTIO_NET_RXQ, e);
		if (r < 0)
			return; /* device error already raised */
		/* Without MRG_RXBUF the packet must fit one chain; with it, the
		 * header must fit the first (we patch num_buffers there). */
		if (r == 0 || (!mrg && e->in_len < total) ||
		    (!count && e->in_len < VIRTIO_NET_HDR_SIZE)) {
			drop(n, count + (r > 0));
			return;
		}
		size_t k = e->in_len < total - off ? (size_t)e->in_len : total - off;
		put_packet(n, e, off, k);
		virtq_fill(n->v, VIRTIO_NET_RXQ, e, (uint32_t)k, count);
		off += k;
	}
	uint8_t nb[2] = { (uint8_t)count, (uint8_t)(count >> 8) };
	virtq_elem_write(n->v, &n->first, 10, nb, 2);
	virtq_flush(n->v, VIRTIO_NET_RXQ, count);
}

static void receive(void *opaque, const void *frame, size_t len)
{
	struct virtio_net *n = opaque;
	virtio_pci_begin(n->v);
	receive_locked(n, frame, len);
	virtio_pci_end(n->v);
}

/* ---- life cycle ---- */

struct virtio_net *virtio_net_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  const uint8_t mac[6], struct net_backend *be)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	memcpy(n->mac, mac, 6);
	n->status = VIRTIO_NET_S_LINK_UP;
	n->be = be;
	n->ops = (struct virtio_dev_ops){
		.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			    1ull << VIRTIO_NET_F_MRG_RXBUF,
		.config_size = CONFIG_SIZE,
		.config_read = config_read,
		.config_write = config_write,
		.notify = notify,
	};
	/* Class 02 00 00: Ethernet controller. */
	n->v = virtio_pci_new(m, bus, devfn, VIRTIO_ID_NET, 0x020000, 2, &n->ops, n, "virtio-net");
	if (!n->v) {
		free(n);
		return NULL;
	}
	if (be)
		net_backend_attach(be, receive, n);
	return n;
}

void virtio_net_reset(struct virtio_net *n)
{
	virtio_pci_reset(n->v);
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->be)
		net_backend_attach(n->be, NULL, NULL);
	virtio_pci_free(n->v);
	free(n);
}

void virtio_net_set_link(struct virtio_net *n, bool up)
{
	uint16_t s = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (s == n->status)
		return;
	n->status = s;
	virtio_pci_config_changed(n->v);
}

struct virtio_pci *virtio_net_transport(struct virtio_net *n)
{
	return n->v;
}

uint64_t virtio_net_rx_dropped(const struct virtio_net *n)
{
	return n->rx_dropped;
}
