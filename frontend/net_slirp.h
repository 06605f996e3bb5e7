/*
 * frontend/net_slirp.h — the "user" network backend: a user-mode TCP/IP
 * stack (Debian's libslirp, the library QEMU uses) that gives the guest
 * DHCP, a DNS relay and NAT of its TCP/UDP connections to the host's
 * network, plus host-to-guest port forwarding.
 */
#ifndef NESTBOX_FRONTEND_NET_SLIRP_H
#define NESTBOX_FRONTEND_NET_SLIRP_H

#include <stddef.h>

struct net_backend;
struct net_user_cfg;
struct net_slirp;

/* NULL with a message in err when the stack cannot be made (or nestbox
 * was built without libslirp). */
struct net_slirp *net_slirp_new(const struct net_user_cfg *c, char *err, size_t errlen);
/* The backend a NIC attaches to directly... */
struct net_backend *net_slirp_backend(struct net_slirp *s);
/* ...or join the stack to a hub port instead. */
void net_slirp_connect(struct net_slirp *s, struct net_backend *port);
/* Run the stack's timers and exchange host socket traffic; never blocks. */
void net_slirp_poll(struct net_slirp *s);
void net_slirp_free(struct net_slirp *s);

#endif
