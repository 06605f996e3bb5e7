/*
 * frontend/cli_net.h — networking options in QEMU's syntax (parsed by
 * frontend/cli_net.c, turned into NIC backends by frontend/net.c):
 *   -netdev user,id=ID[,net=A/N][,host=A][,dhcpstart=A][,dns=A][,restrict=on|off]
 *          [,hostname=S][,domainname=S][,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]...
 *   -netdev hubport,id=ID,hubid=N
 *   -device virtio-net-pci|virtio-net[,netdev=ID][,mac=52:54:00:..][,id=S]
 *   -nic none | -nic user|hubport[,model=virtio-net-pci][,mac=M][,<netdev options>]
 *   -net none | -net nic[,model=virtio][,macaddr=M] | -net user[,<options>] (hub 0)
 */
#ifndef NESTBOX_FRONTEND_CLI_NET_H
#define NESTBOX_FRONTEND_CLI_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define CLI_MAX_NETDEVS 8

enum cli_netdev_kind {
	CLI_NETDEV_USER,    /* user-mode network stack (libslirp) */
	CLI_NETDEV_HUBPORT, /* a port of an emulated hub */
};

struct cli_netdev {
	char id[32];
	enum cli_netdev_kind kind;
	int hubid;       /* hubport: the hub; user on -net: hub 0 */
	bool on_hub;     /* attached to hub `hubid` rather than to one NIC */
	char *user_opts; /* user: the option string, checked by cli_parse_net */
	bool used;       /* a NIC names it */
};

struct cli_nic {
	char netdev[32]; /* "" when on a hub or unconnected */
	bool on_hub;
	int hubid;
	bool has_mac;
	uint8_t mac[6];
};

struct cli_net {
	struct cli_netdev netdevs[CLI_MAX_NETDEVS];
	int nnetdevs;
	struct cli_nic nics[MAX_NICS];
	int nnics;
};

/* -netdev, -nic, -net: 0 parsed, -1 error (printed), 1 not one of these. */
int cli_parse_net_opt(const char *opt, const char *arg, struct cli_net *n);

/* -device ARG when ARG names a NIC model: 0 parsed, -1 error, 1 not a NIC. */
int cli_parse_nic_device(const char *arg, struct cli_net *n);

/* After all options: every NIC's netdev exists and is used once. 0 or -1. */
int cli_net_check(struct cli_net *n);

#endif
