/*
 * devices/ioport.c — the x86 I/O port space (implements devices/ioport.h).
 *
 * A 64K-entry table maps each port to a small handle (index into the
 * handler list, 0 = unclaimed), so dispatch is two loads. The most recent
 * registration wins where ranges overlap. An access of size 2 or 4 goes whole
 * to the handler of its first port unless that handler is byte_only or the
 * port is unclaimed; then it is split into bytes, each dispatched on its own
 * port (what an ISA bus does with a 16-bit cycle to an 8-bit device).
 * Unclaimed ports read all ones and ignore writes; with logging on they are
 * reported on stderr (once per port, or every time).
 */
#include "devices/ioport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPORTS       65536
#define MAX_HANDLERS 65535

struct io_handler {
	const struct ioport_ops *ops;
	void *opaque;
	const char *name;
};

struct ioport_space {
	uint16_t map[NPORTS]; /* handler index, 0 = unclaimed */
	struct io_handler *h; /* h[0] unused */
	unsigned nh, cap;
	int log_level;
	uint8_t logged[NPORTS / 8]; /* unclaimed port already reported */
};

struct ioport_space *ioport_new(void)
{
	struct ioport_space *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "nestbox: out of memory for the I/O space\n");
		return NULL;
	}
	s->nh = 1;
	return s;
}

void ioport_free(struct ioport_space *s)
{
	if (!s)
		return;
	free(s->h);
	free(s);
}

void ioport_set_log(struct ioport_space *s, int level)
{
	s->log_level = level;
}

void ioport_register(struct ioport_space *s, uint16_t base, unsigned count,
		     const struct ioport_ops *ops, void *opaque, const char *name)
{
	if (count == 0)
		return;
	if (count > NPORTS - (unsigned)base)
		count = NPORTS - base;
	if (s->nh >= s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 64;
		if (cap > MAX_HANDLERS + 1)
			cap = MAX_HANDLERS + 1;
		struct io_handler *n = s->nh < cap ? realloc(s->h, cap * sizeof(*n)) : NULL;
		if (!n) {
			fprintf(stderr, "nestbox: cannot register I/O ports %#x+%u (%s)\n", base,
				count, name ? name : "?");
			return;
		}
		s->h = n;
		s->cap = cap;
	}
	unsigned id = s->nh++;
	s->h[id] = (struct io_handler){ ops, opaque, name ? name : "?" };
	for (unsigned i = 0; i < count; i++)
		s->map[base + i] = (uint16_t)id;
}

static void log_unclaimed(struct ioport_space *s, uint16_t port, unsigned size, bool write,
			  uint32_t val)
{
	if (s->log_level >= 2 || !(s->logged[port >> 3] & (1u << (port & 7)))) {
		s->logged[port >> 3] |= (uint8_t)(1u << (port & 7));
		if (write)
			fprintf(stderr, "ioport: unclaimed write port %#06x size %u val %#x\n",
				port, size, val);
		else
			fprintf(stderr, "ioport: unclaimed read port %#06x size %u\n", port, size);
	}
}

static inline uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* One byte of a split access. */
static uint8_t read_byte(struct ioport_space *s, uint16_t port)
{
	unsigned id = s->map[port];
	if (!id) {
		if (s->log_level)
			log_unclaimed(s, port, 1, false, 0);
		return 0xff;
	}
	const struct io_handler *h = &s->h[id];
	return h->ops->read ? (uint8_t)h->ops->read(h->opaque, port, 1) : 0xff;
}

static void write_byte(struct ioport_space *s, uint16_t port, uint8_t val)
{
	unsigned id = s->map[port];
	if (!id) {
		if (s->log_level)
			log_unclaimed(s, port, 1, true, val);
		return;
	}
	const struct io_handler *h = &s->h[id];
	if (h->ops->write)
		h->ops->write(h->opaque, port, val, 1);
}

uint32_t ioport_read(struct ioport_space *s, uint16_t port, unsigned size)
{
	unsigned id = s->map[port];
	if (id) {
		const struct io_handler *h = &s->h[id];
		if (size == 1 || !h->ops->byte_only)
			return h->ops->read ? h->ops->read(h->opaque, port, size) & ones(size)
					    : ones(size);
	}
	/* Byte-only handler or unclaimed first port: split (ports wrap at
	 * 0xffff like the 16-bit port number does). */
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)read_byte(s, (uint16_t)(port + i)) << (8 * i);
	return v;
}

void ioport_write(struct ioport_space *s, uint16_t port, unsigned size, uint32_t val)
{
	unsigned id = s->map[port];
	val &= ones(size);
	if (id) {
		const struct io_handler *h = &s->h[id];
		if (size == 1 || !h->ops->byte_only) {
			if (h->ops->write)
				h->ops->write(h->opaque, port, val, size);
			return;
		}
	}
	for (unsigned i = 0; i < size; i++)
		write_byte(s, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}
