/*
 * devices/port92.c — System Control Port A at 0x92 (see port92.h).
 *
 * Bit 1 = A20 gate (1 = addresses pass bit 20 unmasked), bit 0 = fast
 * reset: writing 1 resets the system (PS/2 and PIIX "fast init"; nestbox
 * performs a full reset). The other bits are stored.
 */
#include "devices/port92.h"

#include "cpu/cpu.h"
#include "devices/ioport.h"
#include "devices/machine.h"

static uint32_t p92_read(void *opaque, uint16_t port, unsigned size)
{
	struct port92 *p = opaque;
	bool a20 = p->m->ncpus && p->m->cpu[0]->a20_mask == ~0ull;
	return (p->val & ~2u) | (a20 ? 2u : 0);
}

static void p92_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct port92 *p = opaque;
	/* Bit 0 is not latched: it reads 0, so the usual read-modify-write
	 * of bit 1 never resets, and every write of 1 does. */
	p->val = (uint8_t)(val & ~1u);
	machine_set_a20(p->m, val & 2);
	if (val & 1)
		machine_request_reset(p->m);
}

static const struct ioport_ops p92_ops = {
	.read = p92_read,
	.write = p92_write,
	.byte_only = true,
};

void port92_init(struct machine *m, struct port92 *p)
{
	p->m = m;
	p->val = 0;
	ioport_register(m->io, 0x92, 1, &p92_ops, p, "port92");
}
