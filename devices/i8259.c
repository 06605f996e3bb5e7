/*
 * devices/i8259.c — two cascaded 8259A PICs and the PIIX ELCR (see i8259.h).
 *
 * Written from the Intel 8259A datasheet (order no. 231468) and the PIIX
 * datasheet (ELCR, §2.8). Summary of the model:
 *  - Each chip keeps IRR/ISR/IMR and the pin levels. Edge-triggered inputs
 *    latch IRR on a 0->1 transition and keep it until the INTA cycle;
 *    level-triggered inputs (ICW1.LTIM or the ELCR bit) make IRR follow the
 *    pin.
 *  - Priority is a rotation: IR (lowest+1)&7 is highest. A request is passed
 *    on when it outranks every in-service level; in special mask mode masked
 *    ISR bits do not block (datasheet "Special Mask Mode"); in special fully
 *    nested mode the master also lets a slave's IR through while that same
 *    slave is in service.
 *  - The slave's INT output is the master's IR2 input, recomputed after every
 *    change, so the master sees a new edge when the slave re-raises INT
 *    after an INTA or EOI.
 *  - The INTA cycle with nothing to deliver (the request went away) yields
 *    IR7 of the chip concerned with no ISR bit set: the "spurious IRQ7/15".
 */
#include "devices/i8259.h"

#include "devices/ioport.h"
#include "devices/machine.h"

/* Highest-priority IR present in mask, or -1. */
static int highest(const struct pic_chip *c, uint8_t mask)
{
	for (int i = 1; i <= 8; i++) {
		int n = (c->lowest + i) & 7;
		if (mask & (1u << n))
			return n;
	}
	return -1;
}

/* 0 = highest priority. */
static inline int rank(const struct pic_chip *c, int n)
{
	return (n - c->lowest - 1) & 7;
}

static inline bool is_level(const struct pic_chip *c, uint8_t bit)
{
	return c->ltim || (c->elcr & bit);
}

/* The IR this chip would request on INT now, or -1. */
static int chip_pending(const struct pic_chip *c)
{
	int n = highest(c, c->irr & ~c->imr);
	if (n < 0)
		return -1;
	uint8_t isr = c->isr;
	if (c->special_mask)
		isr &= ~c->imr;
	int s = highest(c, isr);
	if (s < 0 || rank(c, n) < rank(c, s))
		return n;
	/* SFNM: a slave already in service may still interrupt at its level. */
	if (!c->is_slave && c->sfnm && n == s && (c->icw3 & (1u << n)))
		return n;
	return -1;
}

static void chip_input(struct pic_chip *c, int n, int level)
{
	uint8_t bit = (uint8_t)(1u << n);
	if (level) {
		if (is_level(c, bit) || !(c->level & bit))
			c->irr |= bit;
		c->level |= bit;
	} else {
		c->level &= (uint8_t)~bit;
		if (is_level(c, bit))
			c->irr &= (uint8_t)~bit;
	}
}

/* INTA on one chip: the IR acknowledged, or -1 for a spurious request. */
static int chip_ack(struct pic_chip *c)
{
	int n = chip_pending(c);
	if (n < 0)
		return -1;
	uint8_t bit = (uint8_t)(1u << n);
	if (!is_level(c, bit))
		c->irr &= (uint8_t)~bit;
	if (c->aeoi) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)n;
	} else {
		c->isr |= bit;
	}
	return n;
}

static void update(struct i8259 *p)
{
	chip_input(&p->chip[0], 2, chip_pending(&p->chip[1]) >= 0);
	bool out = chip_pending(&p->chip[0]) >= 0;
	if (out != p->intr_level) {
		p->intr_level = out;
		irq_set(&p->intr, out);
	}
}

void pic_set_irq(struct i8259 *pic, int irq, int level)
{
	if (irq < 0 || irq > 15 || irq == 2)
		return; /* IR2 of the master is the cascade input */
	chip_input(&pic->chip[irq >> 3], irq & 7, level);
	update(pic);
}

void pic_irq_handler(void *opaque, int n, int level)
{
	pic_set_irq(opaque, n, level);
}

bool pic_has_interrupt(const struct i8259 *pic)
{
	return chip_pending(&pic->chip[0]) >= 0;
}

int pic_ack(struct i8259 *pic)
{
	struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
	int n = chip_ack(m);
	int vec;
	if (n < 0) {
		vec = m->vector | 7;
	} else if (n == 2 && !m->single && (m->icw3 & 4)) {
		/* The slave puts its vector on the bus in the second INTA pulse. */
		int k = chip_ack(s);
		vec = s->vector | (k < 0 ? 7 : k);
	} else {
		vec = m->vector | n;
	}
	update(pic);
	return vec;
}

/* ---- programming interface ---- */

static void write_icw1(struct pic_chip *c, uint8_t v)
{
	/* Datasheet "Initialization Command Words": the edge sense circuit is
	 * reset (a new 0->1 transition is needed), IMR cleared, IR7 lowest,
	 * special mask mode cleared, status read set to IRR, ICW4 functions
	 * cleared when IC4 = 0. */
	c->ltim = v & 0x08;
	c->single = v & 0x02;
	c->icw4_needed = v & 0x01;
	c->imr = 0;
	c->isr = 0;
	c->irr = 0;
	for (int n = 0; n < 8; n++)
		if (is_level(c, (uint8_t)(1u << n)))
			c->irr |= c->level & (1u << n);
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!c->icw4_needed) {
		c->aeoi = false;
		c->sfnm = false;
	}
	c->init_step = 2;
}

static void write_ocw2(struct pic_chip *c, uint8_t v)
{
	int l = v & 7, n;
	switch (v >> 5) {
	case 0: /* clear rotate in AEOI mode */
		c->rotate_aeoi = false;
		break;
	case 4: /* set rotate in AEOI mode */
		c->rotate_aeoi = true;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		n = highest(c, c->isr);
		if (n >= 0) {
			c->isr &= (uint8_t) ~(1u << n);
			if (v >> 5 == 5)
				c->lowest = (uint8_t)n;
		}
		break;
	case 3: /* specific EOI */
		c->isr &= (uint8_t) ~(1u << l);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= (uint8_t) ~(1u << l);
		c->lowest = (uint8_t)l;
		break;
	case 6: /* set priority */
		c->lowest = (uint8_t)l;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & 0x40)
		c->special_mask = v & 0x20;
	if (v & 0x04)
		c->poll = true;
	if (v & 0x02)
		c->read_isr = v & 0x01;
}

static void write_odd(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2: /* ICW2: vector base (x86 mode uses bits 7:3) */
		c->vector = v & 0xf8;
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3: /* ICW3: cascade configuration */
		c->icw3 = v;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4: /* ICW4: bit 1 AEOI, bit 4 SFNM (bit 0 uPM, bits 3:2 buffering) */
		c->aeoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint32_t pic_read(void *opaque, uint16_t port, unsigned size)
{
	struct i8259 *p = opaque;
	if (port == 0x4d0 || port == 0x4d1)
		return p->chip[port & 1].elcr;
	struct pic_chip *c = &p->chip[port >= 0xa0];
	if (c->poll) {
		/* Poll command: the read is the INTA (datasheet "The Poll
		 * Command"): bit 7 = request present, bits 2:0 = its level. */
		c->poll = false;
		int n = chip_ack(c);
		update(p);
		return n < 0 ? 0 : 0x80u | (unsigned)n;
	}
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct i8259 *p = opaque;
	uint8_t v = (uint8_t)val;
	if (port == 0x4d0 || port == 0x4d1) {
		struct pic_chip *c = &p->chip[port & 1];
		c->elcr = v & c->elcr_mask;
		/* Inputs that became level-triggered now follow their pins. */
		c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->level & c->elcr));
		update(p);
		return;
	}
	struct pic_chip *c = &p->chip[port >= 0xa0];
	if (port & 1)
		write_odd(c, v);
	else if (v & 0x10)
		write_icw1(c, v);
	else if (v & 0x08)
		write_ocw3(c, v);
	else
		write_ocw2(c, v);
	update(p);
}

static const struct ioport_ops pic_ops = {
	.read = pic_read,
	.write = pic_write,
	.byte_only = true,
};

void i8259_reset(struct i8259 *pic)
{
	for (int i = 0; i < 2; i++) {
		struct pic_chip *c = &pic->chip[i];
		uint8_t level = c->level;
		*c = (struct pic_chip){ 0 };
		c->level = level;
		c->is_slave = i == 1;
		/* PIIX: IRQ0, 1, 2, 8 and 13 are always edge triggered. */
		c->elcr_mask = i ? 0xde : 0xf8;
		c->lowest = 7;
	}
	update(pic);
}

void i8259_init(struct machine *m, struct i8259 *pic)
{
	pic->m = m;
	pic->chip[0].level = pic->chip[1].level = 0;
	pic->intr_level = false;
	i8259_reset(pic);
	ioport_register(m->io, 0x20, 2, &pic_ops, pic, "pic-master");
	ioport_register(m->io, 0xa0, 2, &pic_ops, pic, "pic-slave");
	ioport_register(m->io, 0x4d0, 2, &pic_ops, pic, "elcr");
}
