/*
 * devices/ferr.c — FERR# to IRQ 13 and IGNNE# on port F0h (see ferr.h).
 *
 * The processor asserts FERR# at the end of an x87 instruction that raised
 * an unmasked exception while CR0.NE = 0 and keeps it asserted until FSW.ES
 * is cleared (cpu/x87/x87_core.c). Its rising edge sets the request latch,
 * which drives IRQ 13 (8259 slave input 5, IOAPIC pin 13: edge-triggered, so
 * a latch left set by a handler that never writes F0h raises no further
 * interrupt). The handler writes F0h: the latch clears and, while FERR# is
 * still asserted, IGNNE# is asserted so that waiting x87 instructions run
 * despite the pending error; clearing the error (FNCLEX, FNINIT, ...)
 * deasserts FERR#, which clears IGNNE#.
 */
#include "devices/ferr.h"

#include "devices/ioport.h"
#include "devices/machine.h"

static void set_latch(struct pc_ferr *f, bool on)
{
	if (f->latch != on) {
		f->latch = on;
		irq_set(&f->irq, on);
	}
}

bool pc_ferr_signal(struct pc_ferr *f, bool ferr)
{
	if (ferr && !f->ferr)
		set_latch(f, true);
	if (!ferr)
		f->ignne = false;
	f->ferr = ferr;
	return f->ignne;
}

static uint32_t f0_read(void *opaque, uint16_t port, unsigned size)
{
	return 0xff; /* nothing to read (QEMU's port F0h reads all ones too) */
}

static void f0_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pc_ferr *f = opaque;

	set_latch(f, false);
	f->ignne = f->ferr;
}

static const struct ioport_ops f0_ops = {
	.read = f0_read,
	.write = f0_write,
	.byte_only = true,
};

void pc_ferr_reset(struct pc_ferr *f)
{
	set_latch(f, false);
	f->ferr = false;
	f->ignne = false;
}

void pc_ferr_init(struct machine *m, struct pc_ferr *f, struct irq_line irq)
{
	f->irq = irq;
	f->ferr = f->latch = f->ignne = false;
	ioport_register(m->io, 0xf0, 1, &f0_ops, f, "ferr");
}
