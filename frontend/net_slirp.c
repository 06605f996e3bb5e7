/*
 * frontend/net_slirp.c — the "user" network backend over libslirp (see
 * net_slirp.h). libslirp is single-threaded and event driven: it asks for
 * timers and for host file descriptors to watch, and the runner calls
 * net_slirp_poll between slices of guest time, so frames reach the NIC
 * only between instructions, like every other device event. Slirp's clock
 * is the host's monotonic clock: its timers pace real network traffic.
 */
#include "frontend/net_slirp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_net_backend.h"
#include "frontend/net.h"

#ifdef NESTBOX_HAVE_SLIRP

#include <libslirp.h>
#include <poll.h>
#include <time.h>

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerCb cb; /* timer_new style, else id style */
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms; /* -1 = not armed */
};

struct net_slirp {
	struct net_backend be;    /* direct attachment to one NIC */
	struct net_backend *port; /* or a hub port */
	Slirp *slirp;
	struct slirp_timer *timers;
	struct pollfd *fds;
	int nfds, cap;
	bool error_logged;
};

static int64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A frame from the stack to the guest network. */
static ssize_t cb_send(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->port)
		s->port->send(s->port, buf, len);
	else if (s->be.receive)
		s->be.receive(s->be.rx_opaque, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;
	if (!s->error_logged)
		fprintf(stderr, "nestbox: -netdev user: guest error: %s\n", msg);
	s->error_logged = true;
}

static int64_t cb_clock(void *opaque)
{
	(void)opaque;
	return host_ns();
}

static struct slirp_timer *add_timer(struct net_slirp *s)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "nestbox: -netdev user: out of memory\n");
		exit(2);
	}
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = add_timer(opaque);
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = add_timer(opaque);
	t->id = id;
	t->cb_opaque = cb_opaque;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	for (struct slirp_timer **pp = &s->timers; *pp; pp = &(*pp)->next)
		if (*pp == timer) {
			*pp = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

/* Descriptors are collected afresh by slirp_pollfds_fill on every poll. */
static void cb_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = cb_send,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_fd,
	.unregister_poll_fd = cb_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* A frame from the guest (the NIC, or the hub) into the stack. */
static void be_send(struct net_backend *be, const void *frame, size_t len)
{
	struct net_slirp *s = (struct net_slirp *)be;
	slirp_input(s->slirp, frame, (int)len);
}

static void port_receive(void *opaque, const void *frame, size_t len)
{
	struct net_slirp *s = opaque;
	slirp_input(s->slirp, frame, (int)len);
}

struct net_slirp *net_slirp_new(const struct net_user_cfg *c, char *err, size_t errlen)
{
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->be.send = be_send;
	SlirpConfig cfg = {
		.version = 4,
		.restricted = c->restricted,
		.in_enabled = true,
		.vnetwork = c->net,
		.vnetmask = c->mask,
		.vhost = c->host,
		.vhostname = c->hostname[0] ? c->hostname : NULL,
		.vdhcp_start = c->dhcp,
		.vnameserver = c->dns,
		.vdomainname = c->domainname[0] ? c->domainname : NULL,
	};
	s->slirp = slirp_new(&cfg, &callbacks, s);
	if (!s->slirp) {
		snprintf(err, errlen, "libslirp could not start the user-mode stack");
		free(s);
		return NULL;
	}
	for (int i = 0; i < c->nfwd; i++) {
		if (slirp_add_hostfwd(s->slirp, c->fwd[i].udp, c->fwd[i].haddr, c->fwd[i].hport,
				      c->fwd[i].gaddr, c->fwd[i].gport) < 0) {
			snprintf(err, errlen, "hostfwd: cannot listen on host port %d",
				 c->fwd[i].hport);
			net_slirp_free(s);
			return NULL;
		}
	}
	return s;
}

struct net_backend *net_slirp_backend(struct net_slirp *s)
{
	return &s->be;
}

void net_slirp_connect(struct net_slirp *s, struct net_backend *port)
{
	s->port = port;
	net_backend_attach(port, port_receive, s);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->nfds == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct pollfd *p = realloc(s->fds, (size_t)cap * sizeof(*p));
		if (!p)
			return -1;
		s->fds = p;
		s->cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->fds[s->nfds] = (struct pollfd){ .fd = fd, .events = ev };
	return s->nfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	if (idx < 0 || idx >= s->nfds)
		return 0;
	short r = s->fds[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

void net_slirp_poll(struct net_slirp *s)
{
	int64_t now_ms = host_ns() / 1000000;
	/* A callback may free or re-arm timers: look again from the head
	 * after each one (there are only a handful). */
	for (int n = 0; n < 64; n++) {
		struct slirp_timer *t = s->timers;
		while (t && (t->expire_ms < 0 || t->expire_ms > now_ms))
			t = t->next;
		if (!t)
			break;
		t->expire_ms = -1;
		if (t->cb)
			t->cb(t->cb_opaque);
		else
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
	}
	uint32_t timeout = 0;
	s->nfds = 0;
	slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
	int n = s->nfds ? poll(s->fds, (nfds_t)s->nfds, 0) : 0;
	slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
}

void net_slirp_free(struct net_slirp *s)
{
	if (!s)
		return;
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	free(s->fds);
	free(s);
}

#else /* !NESTBOX_HAVE_SLIRP */

struct net_slirp {
	int unused;
};

struct net_slirp *net_slirp_new(const struct net_user_cfg *c, char *err, size_t errlen)
{
	(void)c;
	snprintf(err, errlen, "this nestbox was built without libslirp (install libslirp-dev)");
	return NULL;
}

struct net_backend *net_slirp_backend(struct net_slirp *s)
{
	(void)s;
	return NULL;
}

void net_slirp_connect(struct net_slirp *s, struct net_backend *port)
{
	(void)s;
	(void)port;
}

void net_slirp_poll(struct net_slirp *s)
{
	(void)s;
}

void net_slirp_free(struct net_slirp *s)
{
	(void)s;
}

#endif
