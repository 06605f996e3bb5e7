/*
 * devices/ioport.h — the x86 I/O port space (64K ports).
 *
 * A device registers {ops, opaque, name} for a range of ports; accesses to
 * unclaimed ports read all ones and are logged once per port (when the
 * machine's trace option is on). Accesses of size 2/4 go to the handler of
 * their first port with the full size; a handler that only supports bytes
 * sets byte_only and the dispatcher splits the access.
 */
#ifndef NESTBOX_DEVICES_IOPORT_H
#define NESTBOX_DEVICES_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

struct ioport_ops {
	uint32_t (*read)(void *opaque, uint16_t port, unsigned size);
	void (*write)(void *opaque, uint16_t port, uint32_t val, unsigned size);
	bool byte_only;
};

struct ioport_space;

struct ioport_space *ioport_new(void);
void ioport_free(struct ioport_space *s);
void ioport_register(struct ioport_space *s, uint16_t base, unsigned count,
		     const struct ioport_ops *ops, void *opaque, const char *name);
/* Logging of unclaimed accesses on stderr: 0 = off (default), 1 = once per
 * port, 2 = every access. */
void ioport_set_log(struct ioport_space *s, int level);
uint32_t ioport_read(struct ioport_space *s, uint16_t port, unsigned size);
void ioport_write(struct ioport_space *s, uint16_t port, unsigned size, uint32_t val);

#endif
