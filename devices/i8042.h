/*
 * devices/i8042.h — the PC keyboard controller (8042) at ports 0x60/0x64,
 * with a PS/2 keyboard on its first port and a PS/2 mouse on the second
 * (AUX) port.
 *
 * The controller's output port drives system reset (bit 0) and the A20
 * gate (bit 1): see devices/port92.h for the machine-level actions. IRQ1
 * (field irq_kbd) and IRQ12 (field irq_aux) are wired by the board.
 * The frontend feeds key presses with i8042_kbd_put() as set-2 scan codes
 * (the controller translates them to set 1 when its command byte asks, as
 * PCs do by default) and mouse movement with i8042_mouse_event().
 */
#ifndef NESTBOX_DEVICES_I8042_H
#define NESTBOX_DEVICES_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;

#define PS2_QUEUE_SIZE 32

struct ps2_queue {
	uint8_t data[PS2_QUEUE_SIZE];
	unsigned head, count;
};

struct i8042 {
	uint8_t ram[32];            /* controller RAM; ram[0] is the command byte */
	uint8_t outport;            /* output port: 0 reset (active low), 1 A20 */
	uint8_t out_buf;            /* output buffer (port 0x60) */
	bool obf, out_aux;          /* output buffer full / holds AUX data */
	bool sys_flag;              /* status bit 2 */
	bool last_cmd;              /* status bit 3: last write went to 0x64 */
	uint8_t pending_cmd;        /* controller command waiting for its data byte */
	bool xlat_break;            /* translation saw an F0 prefix */
	struct ps2_queue ctl_q;     /* controller replies and 0xD2 bytes (keyboard) */
	struct ps2_queue ctl_aux_q; /* 0xD3 bytes (as from the mouse) */
	struct ps2_queue kbd_q;     /* bytes from the keyboard */
	struct ps2_queue aux_q;     /* bytes from the mouse */
	/* Keyboard. */
	uint8_t kbd_pending; /* command waiting for its parameter */
	uint8_t kbd_last;    /* last byte sent (for Resend) */
	uint8_t kbd_set;     /* scan code set 1-3 */
	uint8_t kbd_leds, kbd_typematic;
	bool kbd_scanning;
	/* Mouse. */
	uint8_t aux_pending;
	uint8_t aux_last;
	uint8_t aux_rate, aux_res, aux_id;
	uint8_t aux_rates[3]; /* last three sample rates (IntelliMouse knock) */
	bool aux_enabled, aux_remote, aux_wrap, aux_scale21;
	uint8_t aux_buttons;
	struct irq_line irq_kbd; /* IRQ1 */
	struct irq_line irq_aux; /* IRQ12 */
	bool kbd_level, aux_level;
	struct machine *m;
};

/* Register ports 0x60 and 0x64 and reset. */
void i8042_init(struct machine *m, struct i8042 *k);
void i8042_reset(struct i8042 *k);
/* Bytes a set-2 keyboard sends (make codes, F0 break prefix, E0/E1). */
void i8042_kbd_put(struct i8042 *k, const uint8_t *codes, size_t n);
/* Mouse movement (dy > 0 = up, dz = wheel) and buttons (bit 0 left,
 * 1 right, 2 middle); sent only while reporting is enabled in stream mode. */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons);

#endif
