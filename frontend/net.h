/*
 * frontend/net.h — the host side of guest networking: the backends behind
 * the NICs the command line asked for (frontend/cli_net.h). "user" is a
 * user-mode TCP/IP stack (libslirp, as QEMU's -netdev user: DHCP, DNS
 * relay, NAT of TCP/UDP to the host's network, hostfwd); "hubport" joins
 * NICs and backends on an emulated hub. The runner calls net_poll between
 * slices of guest time: the host's sockets are polled without blocking, so
 * a run without -netdev user stays deterministic.
 */
#ifndef NESTBOX_FRONTEND_NET_H
#define NESTBOX_FRONTEND_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "devices/machine.h"
#include "frontend/cli_net.h"

#define NET_USER_MAX_FWD 8

/* -netdev user options (QEMU's names and defaults). */
struct net_user_cfg {
	struct in_addr net, mask; /* net=10.0.2.0/24 */
	struct in_addr host;      /* host=10.0.2.2 (the gateway) */
	struct in_addr dhcp;      /* dhcpstart=10.0.2.15 */
	struct in_addr dns;       /* dns=10.0.2.3 */
	bool restricted;          /* restrict=on: no traffic leaves */
	char hostname[64], domainname[64];
	struct {
		bool udp;
		struct in_addr haddr, gaddr;
		int hport, gport;
	} fwd[NET_USER_MAX_FWD];
	int nfwd;
};

/* Parse "key=value,..." (may be empty) into c; false with a message. */
bool net_user_parse(const char *opts, struct net_user_cfg *c, char *err, size_t errlen);

struct net_runtime;

/* Make the backends of n's NICs and fill cfg->nics/nnics. NULL after
 * printing an error. */
struct net_runtime *net_setup(const struct cli_net *n, struct machine_config *cfg);
/* True when some backend talks to the host (the runner polls often). */
bool net_active(const struct net_runtime *r);
/* Exchange pending host traffic; never blocks. */
void net_poll(struct net_runtime *r);
/* After machine_free. */
void net_free(struct net_runtime *r);

#endif
