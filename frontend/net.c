/*
 * frontend/net.c — wiring of NICs to backends (see net.h): hubs for
 * -net/-nic hubport/-netdev hubport, user-mode stacks (frontend/net_slirp.c)
 * for "user", and the parser of the user-mode options.
 */
#include "frontend/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_net_backend.h"
#include "frontend/net_slirp.h"

#define MAX_HUBS (MAX_NICS + CLI_MAX_NETDEVS)

struct net_runtime {
	struct net_hub *hub[MAX_HUBS];
	int hubid[MAX_HUBS], nhubs;
	struct net_slirp *user[CLI_MAX_NETDEVS];
	int nusers;
};

static bool addr(const char *v, struct in_addr *out)
{
	return inet_pton(AF_INET, v, out) == 1;
}

/* [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT */
static bool parse_fwd(char *v, struct net_user_cfg *c)
{
	if (c->nfwd >= NET_USER_MAX_FWD)
		return false;
	bool udp = false;
	if (!strncmp(v, "tcp:", 4)) {
		v += 4;
	} else if (!strncmp(v, "udp:", 4)) {
		udp = true;
		v += 4;
	}
	char *dash = strchr(v, '-');
	if (!dash)
		return false;
	*dash = 0;
	char *hport = strrchr(v, ':'), *g = dash + 1, *gport = strrchr(g, ':');
	if (!hport || !gport)
		return false;
	*hport++ = 0;
	*gport++ = 0;
	struct in_addr ha = { 0 }, ga = { 0 };
	if ((*v && !addr(v, &ha)) || (*g && !addr(g, &ga)))
		return false;
	char *e1, *e2;
	long hp = strtol(hport, &e1, 10), gp = strtol(gport, &e2, 10);
	if (*e1 || *e2 || !*hport || !*gport || hp < 0 || hp > 65535 || gp < 1 || gp > 65535)
		return false;
	c->fwd[c->nfwd].udp = udp;
	c->fwd[c->nfwd].haddr = ha;
	c->fwd[c->nfwd].gaddr = ga;
	c->fwd[c->nfwd].hport = (int)hp;
	c->fwd[c->nfwd].gport = (int)gp;
	c->nfwd++;
	return true;
}

static bool in_net(const struct net_user_cfg *c, struct in_addr a)
{
	return (a.s_addr & c->mask.s_addr) == c->net.s_addr;
}

bool net_user_parse(const char *opts, struct net_user_cfg *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	addr("10.0.2.0", &c->net);
	addr("255.255.255.0", &c->mask);
	bool host = false, dhcp = false, dns = false;
	char *buf = strdup(opts ? opts : ""), *save = NULL;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bool ok = true;
	for (char *kv = strtok_r(buf, ",", &save); ok && kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			snprintf(err, errlen, "expected key=value in '%s'", kv);
			ok = false;
			break;
		}
		*eq = 0;
		char *v = eq + 1;
		if (!strcmp(kv, "net")) {
			char *slash = strchr(v, '/');
			int bits = 24;
			if (slash) {
				*slash = 0;
				char *end;
				bits = (int)strtol(slash + 1, &end, 10);
				if (*end || bits < 8 || bits > 30)
					ok = false;
			}
			ok = ok && addr(v, &c->net);
			c->mask.s_addr = htonl(~0u << (32 - bits));
			c->net.s_addr &= c->mask.s_addr;
		} else if (!strcmp(kv, "host")) {
			ok = addr(v, &c->host);
			host = true;
		} else if (!strcmp(kv, "dhcpstart")) {
			ok = addr(v, &c->dhcp);
			dhcp = true;
		} else if (!strcmp(kv, "dns")) {
			ok = addr(v, &c->dns);
			dns = true;
		} else if (!strcmp(kv, "restrict")) {
			if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "y"))
				c->restricted = true;
			else if (strcmp(v, "off") && strcmp(v, "no") && strcmp(v, "n"))
				ok = false;
		} else if (!strcmp(kv, "hostname")) {
			ok = strlen(v) < sizeof(c->hostname);
			if (ok)
				strcpy(c->hostname, v);
		} else if (!strcmp(kv, "domainname")) {
			ok = strlen(v) < sizeof(c->domainname);
			if (ok)
				strcpy(c->domainname, v);
		} else if (!strcmp(kv, "hostfwd")) {
			ok = parse_fwd(v, c);
		} else if (!strcmp(kv, "ipv6") || !strcmp(kv, "ipv4")) {
			/* IPv4 only: ipv4=on and ipv6=off are what we do anyway. */
			ok = !strcmp(v, kv[3] == '4' ? "on" : "off");
		} else {
			snprintf(err, errlen, "unknown user-mode option '%s'", kv);
			ok = false;
			break;
		}
		if (!ok)
			snprintf(err, errlen, "bad value for %s: '%s'", kv, v);
	}
	free(buf);
	if (!ok)
		return false;
	/* QEMU's defaults: .2 gateway, .3 DNS, .15 first DHCP address. */
	uint32_t base = ntohl(c->net.s_addr);
	if (!host)
		c->host.s_addr = htonl(base | 2);
	if (!dns)
		c->dns.s_addr = htonl(base | 3);
	if (!dhcp)
		c->dhcp.s_addr = htonl(base | 15);
	if (!in_net(c, c->host) || !in_net(c, c->dns) || !in_net(c, c->dhcp)) {
		snprintf(err, errlen, "host, dns and dhcpstart must lie in net=");
		return false;
	}
	for (int i = 0; i < c->nfwd; i++)
		if (!c->fwd[i].gaddr.s_addr)
			c->fwd[i].gaddr = c->dhcp; /* QEMU: the first DHCP address */
	return true;
}

static struct net_hub *get_hub(struct net_runtime *r, int id)
{
	for (int i = 0; i < r->nhubs; i++)
		if (r->hubid[i] == id)
			return r->hub[i];
	if (r->nhubs == MAX_HUBS)
		return NULL;
	struct net_hub *h = net_hub_new();
	if (!h)
		return NULL;
	r->hub[r->nhubs] = h;
	r->hubid[r->nhubs++] = id;
	return h;
}

static struct net_slirp *new_user(struct net_runtime *r, const struct cli_netdev *d)
{
	struct net_user_cfg uc;
	char err[200];
	if (!net_user_parse(d->user_opts, &uc, err, sizeof(err))) {
		fprintf(stderr, "nestbox: -netdev user: %s\n", err);
		return NULL;
	}
	struct net_slirp *s = net_slirp_new(&uc, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "nestbox: -netdev user: %s\n", err);
		return NULL;
	}
	r->user[r->nusers++] = s;
	return s;
}

struct net_runtime *net_setup(const struct cli_net *n, struct machine_config *cfg)
{
	struct net_runtime *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	/* Backends on hubs first (-net user, hubport netdevs). */
	for (int i = 0; i < n->nnetdevs; i++) {
		const struct cli_netdev *d = &n->netdevs[i];
		if (!d->used && d->kind == CLI_NETDEV_USER) {
			fprintf(stderr, "nestbox: warning: -netdev %s has no NIC\n", d->id);
			continue;
		}
		if (!d->on_hub || d->kind != CLI_NETDEV_USER)
			continue;
		struct net_hub *h = get_hub(r, d->hubid);
		struct net_backend *port = h ? net_hub_port(h) : NULL;
		struct net_slirp *s = port ? new_user(r, d) : NULL;
		if (!s)
			goto fail;
		net_slirp_connect(s, port);
	}
	cfg->nnics = n->nnics;
	for (int i = 0; i < n->nnics; i++) {
		const struct cli_nic *c = &n->nics[i];
		struct nic_config *nc = &cfg->nics[i];
		memset(nc, 0, sizeof(*nc));
		static const uint8_t qemu_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
		memcpy(nc->mac, c->has_mac ? c->mac : qemu_mac, 6);
		if (!c->has_mac)
			nc->mac[5] = (uint8_t)(nc->mac[5] + i);
		if (c->on_hub) {
			struct net_hub *h = get_hub(r, c->hubid);
			nc->backend = h ? net_hub_port(h) : NULL;
			if (!nc->backend) {
				fprintf(stderr, "nestbox: too many ports on network hub %d\n",
					c->hubid);
				goto fail;
			}
		} else if (c->netdev[0]) {
			const struct cli_netdev *d = NULL;
			for (int j = 0; j < n->nnetdevs; j++)
				if (!strcmp(n->netdevs[j].id, c->netdev))
					d = &n->netdevs[j];
			struct net_slirp *s = d ? new_user(r, d) : NULL;
			if (!s)
				goto fail;
			nc->backend = net_slirp_backend(s);
		}
		/* No netdev: the board gives the NIC a backend that drops
		 * frames (QEMU: an unconnected NIC). */
	}
	return r;
fail:
	net_free(r);
	return NULL;
}

bool net_active(const struct net_runtime *r)
{
	return r && r->nusers > 0;
}

void net_poll(struct net_runtime *r)
{
	for (int i = 0; r && i < r->nusers; i++)
		net_slirp_poll(r->user[i]);
}

void net_free(struct net_runtime *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nusers; i++)
		net_slirp_free(r->user[i]);
	for (int i = 0; i < r->nhubs; i++)
		net_hub_free(r->hub[i]);
	free(r);
}
