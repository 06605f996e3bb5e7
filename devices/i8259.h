/*
 * devices/i8259.h — the two cascaded Intel 8259A programmable interrupt
 * controllers of the PC (master at 0x20/0x21, slave at 0xa0/0xa1, slave INT
 * on master IR2) plus the PIIX edge/level control registers (ELCR) at
 * 0x4d0/0x4d1.
 *
 * Devices drive the sixteen inputs with pic_set_irq() (or through an
 * irq_line made by pic_input()); the board connects the master's INT output
 * (field intr) to the CPU (directly, or to LAPIC LINT0 as ExtINT) and runs
 * the INTA cycle with pic_ack().
 */
#ifndef NESTBOX_DEVICES_I8259_H
#define NESTBOX_DEVICES_I8259_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;

/* One 8259A. */
struct pic_chip {
	uint8_t irr;       /* interrupt request register */
	uint8_t isr;       /* in-service register */
	uint8_t imr;       /* interrupt mask register (OCW1) */
	uint8_t level;     /* current levels of the IR pins */
	uint8_t elcr;      /* 1 = level triggered (PIIX ELCR) */
	uint8_t elcr_mask; /* ELCR bits that are writable */
	uint8_t vector;    /* ICW2 bits 7:3 */
	uint8_t icw3;      /* master: IRs with a slave; slave: its ID */
	uint8_t lowest;    /* IR with the lowest priority (rotation) */
	uint8_t init_step; /* 0 = ready, 2/3/4 = expecting that ICW */
	bool icw4_needed, single, ltim;
	bool aeoi, rotate_aeoi, sfnm;
	bool special_mask; /* OCW3 SMM */
	bool poll;         /* next read of the even port is a poll */
	bool read_isr;     /* OCW3 RR/RIS: even port reads ISR (else IRR) */
	bool is_slave;
};

struct i8259 {
	struct pic_chip chip[2]; /* 0 = master, 1 = slave */
	/* INT output of the master, to the CPU (level: 1 = interrupt pending). */
	struct irq_line intr;
	bool intr_level;
	struct machine *m;
};

/* Register ports 0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1 and reset the chips. */
void i8259_init(struct machine *m, struct i8259 *pic);
/* Power-on / system reset state (not yet initialised by ICWs). */
void i8259_reset(struct i8259 *pic);

/* Drive input irq (0-15) to level (0/1). */
void pic_set_irq(struct i8259 *pic, int irq, int level);
/* irq_line callback: opaque = struct i8259 *, n = input. */
void pic_irq_handler(void *opaque, int n, int level);
static inline struct irq_line pic_input(struct i8259 *pic, int irq)
{
	return (struct irq_line){ pic_irq_handler, pic, irq };
}

/* Is the master's INT output asserted? */
bool pic_has_interrupt(const struct i8259 *pic);
/* The INTA cycle: return the vector and update IRR/ISR (a spurious request
 * yields IR7 of the chip concerned without setting ISR). */
int pic_ack(struct i8259 *pic);

#endif
