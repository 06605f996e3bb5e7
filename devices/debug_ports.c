/*
 * devices/debug_ports.c — debugcon (0xe9) and isa-debug-exit, see the header.
 */
#include "devices/debug_ports.h"

#include "devices/ioport.h"
#include "devices/machine.h"

static uint32_t debugcon_read(void *opaque, uint16_t port, unsigned size)
{
	return 0xe9;
}

static void debugcon_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct debugcon *d = opaque;
	uint8_t b = (uint8_t)val;
	if (d->out) {
		fputc(b, d->out);
		if (b == '\n')
			fflush(d->out);
	}
	if (d->tee)
		d->tee(d->tee_opaque, b);
}

static const struct ioport_ops debugcon_ops = {
	.read = debugcon_read,
	.write = debugcon_write,
	.byte_only = true,
};

void debugcon_init(struct machine *m, struct debugcon *d, uint16_t port, FILE *out)
{
	d->out = out;
	ioport_register(m->io, port, 1, &debugcon_ops, d, "debugcon");
}

static uint32_t debug_exit_read(void *opaque, uint16_t port, unsigned size)
{
	return 0;
}

static void debug_exit_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct machine *m = opaque;
	machine_request_exit(m, (int)(((val << 1) | 1) & 0xff));
}

static const struct ioport_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

void debug_exit_init(struct machine *m, uint16_t base, uint16_t size)
{
	ioport_register(m->io, base, size, &debug_exit_ops, m, "isa-debug-exit");
}
