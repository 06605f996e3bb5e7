/*
 * frontend/cli_drive.c — disk and boot options, QEMU's syntax:
 *   -drive file=F[,format=raw][,if=ide|virtio][,media=disk|cdrom][,index=N]
 *          [,readonly=on|off][,snapshot=on|off][,cache=...][,id=...]
 *   -hda/-hdb/-hdc/-hdd F   IDE disks at index 0-3
 *   -cdrom F                IDE CD-ROM at index 2 (secondary master)
 *   -snapshot               every disk in snapshot mode
 *   -boot [order=]DRIVES[,menu=on|off]   c = disk, d = CD-ROM
 * Validation of the files themselves happens when the board opens them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/cli.h"

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "nestbox: %s '%s'\n", what, arg);
	return -1;
}

static struct drive_config *new_drive(struct cli_options *o, const char *arg)
{
	if (o->ndrives >= MAX_DRIVES) {
		fprintf(stderr, "nestbox: %s: at most %d drives\n", arg, MAX_DRIVES);
		return NULL;
	}
	struct drive_config *d = &o->drives[o->ndrives++];
	memset(d, 0, sizeof(*d));
	d->index = -1;
	return d;
}

static bool onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		return false;
	return true;
}

static int parse_drive(const char *arg, struct cli_options *o)
{
	struct drive_config *d = new_drive(o, arg);
	if (!d)
		return -1;
	/* The option string is kept for the whole run: split a copy. */
	char *buf = strdup(arg), *save = NULL;
	if (!buf)
		return fail("-drive: out of memory for", arg);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return fail("-drive: expected key=value in", kv);
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(kv, "file")) {
			d->file = v;
		} else if (!strcmp(kv, "format")) {
			if (strcmp(v, "raw"))
				return fail("-drive: only format=raw is supported, not", v);
		} else if (!strcmp(kv, "if")) {
			if (!strcmp(v, "virtio"))
				d->virtio = true;
			else if (strcmp(v, "ide"))
				return fail("-drive: interface (if=) must be ide or virtio, not",
					    v);
		} else if (!strcmp(kv, "media")) {
			if (!strcmp(v, "cdrom"))
				d->cdrom = true;
			else if (strcmp(v, "disk"))
				return fail("-drive: media must be disk or cdrom, not", v);
		} else if (!strcmp(kv, "index")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 0 || n > 3)
				return fail("-drive: index must be 0-3, not", v);
			d->index = (int)n;
		} else if (!strcmp(kv, "readonly")) {
			if (!onoff(v, &d->readonly))
				return fail("-drive: readonly must be on or off, not", v);
		} else if (!strcmp(kv, "snapshot")) {
			if (!onoff(v, &d->snapshot))
				return fail("-drive: snapshot must be on or off, not", v);
		} else if (!strcmp(kv, "cache") || !strcmp(kv, "id") || !strcmp(kv, "aio") ||
			   !strcmp(kv, "discard")) {
			/* Accepted and ignored (docs/cli.md). */
		} else {
			return fail("-drive: unknown property", kv);
		}
	}
	if (!d->file)
		return fail("-drive: no file= in", arg);
	if (d->cdrom && d->virtio)
		return fail("-drive: a CD-ROM must be on the IDE interface:", arg);
	return 0;
}

int cli_parse_drive_opt(const char *opt, const char *arg, struct cli_options *o)
{
	if (!strcmp(opt, "-drive"))
		return parse_drive(arg, o);
	if (!strcmp(opt, "-cdrom")) {
		struct drive_config *d = new_drive(o, arg);
		if (!d)
			return -1;
		d->file = arg;
		d->cdrom = true;
		d->index = 2;
		return 0;
	}
	if (!strncmp(opt, "-hd", 3) && opt[3] >= 'a' && opt[3] <= 'd' && !opt[4]) {
		struct drive_config *d = new_drive(o, arg);
		if (!d)
			return -1;
		d->file = arg;
		d->index = opt[3] - 'a';
		return 0;
	}
	if (!strcmp(opt, "-boot")) {
		char *buf = strdup(arg), *save = NULL;
		if (!buf)
			return fail("-boot: out of memory for", arg);
		for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			const char *v = kv;
			if (!strncmp(kv, "order=", 6) || !strncmp(kv, "once=", 5))
				v = strchr(kv, '=') + 1;
			else if (!strncmp(kv, "menu=", 5)) {
				if (!onoff(kv + 5, &o->boot_menu))
					return fail("-boot: menu must be on or off, not", kv + 5);
				continue;
			} else if (strchr(kv, '=')) {
				if (!strncmp(kv, "splash", 6) ||
				    !strncmp(kv, "reboot-timeout=", 15) ||
				    !strncmp(kv, "strict=", 7))
					continue; /* accepted and ignored (docs/cli.md) */
				return fail("-boot: unknown property", kv);
			}
			if (strspn(v, "acdn") != strlen(v) || !*v)
				return fail("-boot: boot order letters are a, c, d, n; not", v);
			o->boot_order = v;
		}
		return 0;
	}
	return 1; /* not a drive option */
}
