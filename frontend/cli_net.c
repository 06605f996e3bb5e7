/*
 * frontend/cli_net.c — parsing of -netdev, -nic, -net and the NIC -device
 * models (see cli_net.h for the accepted syntax). The user-mode options
 * themselves are checked by net_user_parse (frontend/net.h) so that a bad
 * hostfwd= is reported before the machine is built.
 */
#include "frontend/cli_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/net.h"

static int fail(const char *opt, const char *what, const char *arg)
{
	fprintf(stderr, "nestbox: %s: %s '%s'\n", opt, what, arg);
	return -1;
}

/* "52:54:00:12:34:56" */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A multicast address cannot be a NIC's own (IEEE 802: bit 0 of the
	 * first octet); QEMU refuses it too. */
	return !(mac[0] & 1);
}

static bool parse_id(const char *v, char out[32])
{
	if (!*v || strlen(v) >= 32)
		return false;
	strcpy(out, v);
	return true;
}

static bool parse_hubid(const char *v, int *out)
{
	char *end;
	long h = strtol(v, &end, 10);
	if (*end || !*v || h < 0 || h > 1000000)
		return false;
	*out = (int)h;
	return true;
}

static struct cli_netdev *new_netdev(struct cli_net *n, const char *opt, const char *arg)
{
	if (n->nnetdevs >= CLI_MAX_NETDEVS) {
		fail(opt, "too many network backends at", arg);
		return NULL;
	}
	struct cli_netdev *d = &n->netdevs[n->nnetdevs++];
	memset(d, 0, sizeof(*d));
	return d;
}

static struct cli_nic *new_nic(struct cli_net *n, const char *opt, const char *arg)
{
	if (n->nnics >= MAX_NICS) {
		fprintf(stderr, "nestbox: %s %s: at most %d NICs\n", opt, arg, MAX_NICS);
		return NULL;
	}
	struct cli_nic *c = &n->nics[n->nnics++];
	memset(c, 0, sizeof(*c));
	return c;
}

/*
 * A backend's options: kind first ("user" or "hubport"), then key=value.
 * Keys the NIC takes (-nic's model= and mac=) are split off into *nic when
 * nic is non-NULL. The user-mode keys are collected for net_user_parse.
 */
static int parse_backend(const char *opt, const char *arg, struct cli_netdev *d,
			 struct cli_nic *nic, bool need_id)
{
	char *buf = strdup(arg), *save = NULL;
	size_t ulen = strlen(arg) + 1;
	char *user = calloc(1, ulen);
	if (!buf || !user) {
		free(buf);
		free(user);
		return fail(opt, "out of memory for", arg);
	}
	int rc = 0;
	bool have_id = false, have_hub = false;
	char *kind = strtok_r(buf, ",", &save);
	if (kind && !strcmp(kind, "user")) {
		d->kind = CLI_NETDEV_USER;
	} else if (kind && !strcmp(kind, "hubport")) {
		d->kind = CLI_NETDEV_HUBPORT;
	} else {
		rc = fail(opt, "unknown network backend (nestbox has: user, hubport)",
			  kind ? kind : "");
		goto out;
	}
	for (char *kv; rc == 0 && (kv = strtok_r(NULL, ",", &save));) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			rc = fail(opt, "expected key=value in", kv);
			break;
		}
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(kv, "id")) {
			if (!parse_id(v, d->id))
				rc = fail(opt, "bad id", v);
			have_id = true;
		} else if (nic && !strcmp(kv, "model")) {
			if (strcmp(v, "virtio-net-pci") && strcmp(v, "virtio"))
				rc = fail(opt,
					  "unsupported NIC model (nestbox has: virtio-net-pci)", v);
		} else if (nic && !strcmp(kv, "mac")) {
			if (!parse_mac(v, nic->mac))
				rc = fail(opt, "not a unicast MAC address", v);
			nic->has_mac = true;
		} else if (d->kind == CLI_NETDEV_HUBPORT && !strcmp(kv, "hubid")) {
			if (!parse_hubid(v, &d->hubid))
				rc = fail(opt, "bad hubid", v);
			have_hub = true;
		} else if (d->kind == CLI_NETDEV_USER) {
			/* Checked as a whole by net_user_parse. */
			*eq = '=';
			if (*user)
				strcat(user, ",");
			strcat(user, kv);
		} else {
			*eq = '=';
			rc = fail(opt, "unknown option", kv);
		}
	}
	if (rc == 0 && need_id && !have_id)
		rc = fail(opt, "needs id=", arg);
	if (rc == 0 && d->kind == CLI_NETDEV_HUBPORT && !have_hub)
		rc = fail(opt, "hubport needs hubid=", arg);
	if (rc == 0 && d->kind == CLI_NETDEV_USER) {
		struct net_user_cfg uc;
		char err[200];
		if (!net_user_parse(user, &uc, err, sizeof(err)))
			rc = fail(opt, err, arg);
	}
out:
	free(buf);
	if (rc == 0 && d->kind == CLI_NETDEV_USER)
		d->user_opts = user;
	else
		free(user);
	return rc;
}

/* -nic KIND[,...]: a backend and a virtio-net NIC joined to it. */
static int parse_nic_opt(const char *arg, struct cli_net *n)
{
	if (!strcmp(arg, "none"))
		return 0;
	struct cli_netdev *d = new_netdev(n, "-nic", arg);
	struct cli_nic *c = d ? new_nic(n, "-nic", arg) : NULL;
	if (!c)
		return -1;
	if (parse_backend("-nic", arg, d, c, false) < 0)
		return -1;
	if (d->kind == CLI_NETDEV_HUBPORT) {
		/* The NIC joins the hub itself. */
		c->on_hub = true;
		c->hubid = d->hubid;
		n->nnetdevs--;
		return 0;
	}
	/* A private id joins the pair. */
	snprintf(d->id, sizeof(d->id), "__nic%d", n->nnics - 1);
	strcpy(c->netdev, d->id);
	return 0;
}

/* -net nic[,model=][,macaddr=][,netdev=] | -net user[,...] | -net none:
 * the old syntax, where NICs and backends meet on hub 0. */
static int parse_net_opt(const char *arg, struct cli_net *n)
{
	if (!strcmp(arg, "none"))
		return 0;
	if (!strncmp(arg, "user", 4) && (arg[4] == 0 || arg[4] == ',')) {
		struct cli_netdev *d = new_netdev(n, "-net", arg);
		if (!d || parse_backend("-net", arg, d, NULL, false) < 0)
			return -1;
		d->on_hub = true;
		d->hubid = 0;
		d->used = true;
		return 0;
	}
	if (strncmp(arg, "nic", 3) || (arg[3] != 0 && arg[3] != ','))
		return fail("-net", "unknown kind (nestbox has: nic, user, none)", arg);
	struct cli_nic *c = new_nic(n, "-net", arg);
	if (!c)
		return -1;
	c->on_hub = true;
	char *buf = strdup(arg), *save = NULL;
	if (!buf)
		return fail("-net", "out of memory for", arg);
	int rc = 0;
	strtok_r(buf, ",", &save);
	for (char *kv; rc == 0 && (kv = strtok_r(NULL, ",", &save));) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			rc = fail("-net nic", "expected key=value in", kv);
			break;
		}
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(kv, "model")) {
			if (strcmp(v, "virtio") && strcmp(v, "virtio-net-pci"))
				rc = fail("-net nic", "unsupported NIC model (nestbox has: virtio)",
					  v);
		} else if (!strcmp(kv, "macaddr")) {
			if (!parse_mac(v, c->mac))
				rc = fail("-net nic", "not a unicast MAC address", v);
			c->has_mac = true;
		} else if (!strcmp(kv, "netdev")) {
			if (!parse_id(v, c->netdev))
				rc = fail("-net nic", "bad netdev id", v);
			c->on_hub = false;
		} else if (strcmp(kv, "id") && strcmp(kv, "name")) {
			rc = fail("-net nic", "unknown option", kv);
		}
	}
	free(buf);
	return rc;
}

int cli_parse_net_opt(const char *opt, const char *arg, struct cli_net *n)
{
	if (!strcmp(opt, "-netdev")) {
		struct cli_netdev *d = new_netdev(n, opt, arg);
		if (!d || parse_backend(opt, arg, d, NULL, true) < 0)
			return -1;
		for (int i = 0; i < n->nnetdevs - 1; i++)
			if (!strcmp(n->netdevs[i].id, d->id))
				return fail(opt, "duplicate id", d->id);
		if (d->kind == CLI_NETDEV_HUBPORT)
			d->on_hub = true;
		return 0;
	}
	if (!strcmp(opt, "-nic"))
		return parse_nic_opt(arg, n);
	if (!strcmp(opt, "-net"))
		return parse_net_opt(arg, n);
	return 1;
}

int cli_parse_nic_device(const char *arg, struct cli_net *n)
{
	size_t len = strcspn(arg, ",");
	if (!((len == 14 && !strncmp(arg, "virtio-net-pci", 14)) ||
	      (len == 10 && !strncmp(arg, "virtio-net", 10))))
		return 1;
	struct cli_nic *c = new_nic(n, "-device", arg);
	if (!c)
		return -1;
	char *buf = strdup(arg), *save = NULL;
	if (!buf)
		return fail("-device", "out of memory for", arg);
	int rc = 0;
	strtok_r(buf, ",", &save);
	for (char *kv; rc == 0 && (kv = strtok_r(NULL, ",", &save));) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			rc = fail("-device virtio-net-pci", "expected key=value in", kv);
			break;
		}
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(kv, "netdev")) {
			if (!parse_id(v, c->netdev))
				rc = fail("-device virtio-net-pci", "bad netdev id", v);
		} else if (!strcmp(kv, "mac")) {
			if (!parse_mac(v, c->mac))
				rc = fail("-device virtio-net-pci", "not a unicast MAC address", v);
			c->has_mac = true;
		} else if (strcmp(kv, "id")) {
			rc = fail("-device virtio-net-pci", "property not supported", kv);
		}
	}
	free(buf);
	return rc;
}

int cli_net_check(struct cli_net *n)
{
	for (int i = 0; i < n->nnics; i++) {
		struct cli_nic *c = &n->nics[i];
		if (!c->netdev[0])
			continue;
		struct cli_netdev *d = NULL;
		for (int j = 0; j < n->nnetdevs; j++)
			if (!strcmp(n->netdevs[j].id, c->netdev))
				d = &n->netdevs[j];
		if (!d)
			return fail("-device virtio-net-pci", "no -netdev with id", c->netdev);
		if (d->used)
			return fail("-netdev", "is used by more than one NIC:", d->id);
		d->used = true;
		if (d->kind == CLI_NETDEV_HUBPORT) {
			/* A NIC on a hubport is simply a member of the hub. */
			c->on_hub = true;
			c->hubid = d->hubid;
			c->netdev[0] = 0;
		}
	}
	return 0;
}
