/*
 * devices/virtio_net.h — virtio network device (virtio 1.2 §5.1) on the
 * virtio PCI transport (devices/virtio_pci.h): PCI id 1AF4:1041, class
 * 02 00 00, queues 0 = receiveq1 and 1 = transmitq1 (no control queue, no
 * multiqueue, no offloads).
 *
 * Features offered: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS,
 * VIRTIO_NET_F_MRG_RXBUF (plus the transport's VERSION_1, INDIRECT_DESC,
 * EVENT_IDX). Every packet carries the 12-byte struct virtio_net_hdr
 * (§5.1.6, VERSION_1 layout, num_buffers included). Frames go to and come
 * from a struct net_backend (devices/virtio_net_backend.h); a frame that
 * arrives while the driver has no (or too small) receive buffers is dropped,
 * like on a NIC whose ring is full.
 */
#ifndef NESTBOX_DEVICES_VIRTIO_NET_H
#define NESTBOX_DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct net_backend;
struct virtio_net;
struct virtio_pci;

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16
#define VIRTIO_NET_S_LINK_UP   1

#define VIRTIO_NET_HDR_SIZE  12
#define VIRTIO_NET_MAX_FRAME 65536 /* largest frame accepted either way */
#define VIRTIO_NET_RXQ       0
#define VIRTIO_NET_TXQ       1

/* Create the device at devfn with MAC address mac, attached to be (which
 * must outlive it; NULL = no backend, frames are dropped). */
struct virtio_net *virtio_net_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  const uint8_t mac[6], struct net_backend *be);
void virtio_net_reset(struct virtio_net *n);
/* Call before pci_free; detaches from the backend (does not free it). */
void virtio_net_free(struct virtio_net *n);
/* Link status (config status field, with a configuration interrupt). */
void virtio_net_set_link(struct virtio_net *n, bool up);
struct virtio_pci *virtio_net_transport(struct virtio_net *n);
/* Frames dropped on receive for lack of buffers (statistics, tests). */
uint64_t virtio_net_rx_dropped(const struct virtio_net *n);

#endif
