/*
 * devices/virtio_net_backend.h — network backends for virtio-net (and any
 * later NIC model): an abstract port that carries Ethernet frames both ways.
 *
 *   device --send(be, frame, len)--> network
 *   network --be->receive(be->rx_opaque, frame, len)--> device
 *
 * Two implementations: "none" (every frame sent is dropped, nothing is ever
 * received) and a "hub" (every frame sent on one port is delivered to every
 * other port of the hub; two NICs on one hub see each other, which the tests
 * use). Delivery is synchronous; a hub drops frames that would recurse more
 * than a few levels deep (a NIC answering inside its receive callback).
 * Real host networking (tap, user-mode) is out of scope here.
 */
#ifndef NESTBOX_DEVICES_VIRTIO_NET_BACKEND_H
#define NESTBOX_DEVICES_VIRTIO_NET_BACKEND_H

#include <stddef.h>

struct net_hub;

struct net_backend {
	/* A frame from the attached device to the network. */
	void (*send)(struct net_backend *be, const void *frame, size_t len);
	/* Set by the attached device: a frame from the network. */
	void (*receive)(void *rx_opaque, const void *frame, size_t len);
	void *rx_opaque;
	/* Frees the backend (NULL for hub ports: the hub owns them). */
	void (*free)(struct net_backend *be);
};

/* Attach/detach a device's receive callback. */
static inline void net_backend_attach(struct net_backend *be,
				      void (*receive)(void *, const void *, size_t), void *opaque)
{
	be->receive = receive;
	be->rx_opaque = opaque;
}

static inline void net_backend_free(struct net_backend *be)
{
	if (be && be->free)
		be->free(be);
}

/* A backend that drops everything. */
struct net_backend *net_backend_none_new(void);

#define NET_HUB_MAX_PORTS 16
struct net_hub *net_hub_new(void);
/* A new port of the hub (NULL when all ports are taken). */
struct net_backend *net_hub_port(struct net_hub *h);
/* Frees the hub and its ports. */
void net_hub_free(struct net_hub *h);

#endif
