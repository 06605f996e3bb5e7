/*
 * devices/virtio_net_backend.c — the "none" and "hub" network backends
 * (see virtio_net_backend.h).
 */
#include "devices/virtio_net_backend.h"

#include <stdlib.h>

/* ---- none ---- */

static void none_send(struct net_backend *be, const void *frame, size_t len) {}

static void none_free(struct net_backend *be)
{
	free(be);
}

struct net_backend *net_backend_none_new(void)
{
	struct net_backend *be = calloc(1, sizeof(*be));
	if (!be)
		return NULL;
	be->send = none_send;
	be->free = none_free;
	return be;
}

/* ---- hub ---- */

#define HUB_MAX_DEPTH 4

struct hub_port {
	struct net_backend be; /* first: a port is passed as its backend */
	struct net_hub *hub;
};

struct net_hub {
	struct hub_port port[NET_HUB_MAX_PORTS];
	int nports;
	int depth; /* nested deliveries (a receiver sending from its callback) */
};

static void hub_send(struct net_backend *be, const void *frame, size_t len)
{
	struct hub_port *from = (struct hub_port *)be;
	struct net_hub *h = from->hub;
	if (h->depth >= HUB_MAX_DEPTH)
		return;
	h->depth++;
	for (int i = 0; i < h->nports; i++) {
		struct hub_port *p = &h->port[i];
		if (p != from && p->be.receive)
			p->be.receive(p->be.rx_opaque, frame, len);
	}
	h->depth--;
}

struct net_hub *net_hub_new(void)
{
	return calloc(1, sizeof(struct net_hub));
}

struct net_backend *net_hub_port(struct net_hub *h)
{
	if (h->nports == NET_HUB_MAX_PORTS)
		return NULL;
	struct hub_port *p = &h->port[h->nports++];
	p->hub = h;
	p->be.send = hub_send;
	return &p->be;
}

void net_hub_free(struct net_hub *h)
{
	free(h);
}
