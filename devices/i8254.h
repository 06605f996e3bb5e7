/*
 * devices/i8254.h — the Intel 8254 programmable interval timer of the PC
 * (ports 0x40-0x43) and the timer bits of System Control Port B (0x61).
 *
 * Counter 0 drives IRQ0 (field irq0, wired by the board to PIC input 0 and
 * IOAPIC pin 2); counter 1 (DRAM refresh) has no output anyone sees;
 * counter 2's gate is port 0x61 bit 0 and its output is readable as port
 * 0x61 bit 5. The counters run at 1.193182 MHz of virtual time (clock.h).
 */
#ifndef NESTBOX_DEVICES_I8254_H
#define NESTBOX_DEVICES_I8254_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/clock.h"
#include "devices/irq.h"

struct machine;

#define PIT_HZ 1193182u

struct pit_channel {
	uint8_t mode; /* 0-5 (6/7 are aliases of 2/3) */
	uint8_t ctrl; /* control word bits 5:0 as written (status byte) */
	uint8_t rw;   /* 1 = LSB, 2 = MSB, 3 = LSB then MSB */
	bool bcd;
	bool gate;
	bool loaded;        /* a count was written since the control word */
	bool triggered;     /* modes 1/5: gate edge seen since the count */
	bool null_count;    /* count register not yet moved to the counter */
	uint32_t cr;        /* count register (binary, 1..65536 / 10000) */
	uint32_t n;         /* count of the current cycle */
	uint64_t start;     /* PIT tick where the current cycle began */
	uint64_t paused_d;  /* ticks counted when the gate went low */
	uint64_t switch_at; /* modes 2/3: tick where n := cr, or UINT64_MAX */
	/* Access state. */
	bool write_msb_next, read_msb_next;
	uint8_t write_lsb;
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct i8254 {
	struct pit_channel ch[3];
	uint8_t port61; /* bits 3:0 of port 0x61 as written */
	struct irq_line irq0;
	bool irq0_level;
	bool pulse; /* the armed event is a mode 2/4/5 strobe */
	struct vtimer timer;
	struct machine *m;
};

/* Register ports 0x40-0x43 and 0x61 and reset. */
void i8254_init(struct machine *m, struct i8254 *pit);
void i8254_reset(struct i8254 *pit);
/* Gate input of counter ch (counter 2's is normally port 0x61 bit 0). */
void pit_set_gate(struct i8254 *pit, int ch, bool level);
/* Current OUT level of counter ch. */
bool pit_get_out(struct i8254 *pit, int ch);

#endif
