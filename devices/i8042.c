/*
 * devices/i8042.c — keyboard controller, PS/2 keyboard and mouse (see
 * i8042.h).
 *
 * Written from the IBM PC AT Technical Reference (keyboard controller
 * commands and output port), the PS/2 keyboard and mouse interface
 * documentation, and what Linux's i8042/atkbd/psmouse drivers and SeaBIOS
 * send. Everything answers at once (IBF never reads 1). Queues feed the
 * single output buffer, in priority order: bytes the controller makes
 * (replies, 0xD2/0xD3 writes; not held back by the port disable bits), the
 * keyboard, the mouse. A byte from the keyboard is translated from set 2 to
 * set 1 when the command byte's XLAT bit is set.
 *
 * Status register (port 0x64 read):
 *   0 OBF  1 IBF  2 SYS  3 A2 (last write was a command)  4 keyboard not
 *   inhibited  5 AUXB (output buffer holds mouse data)  6 timeout  7 parity
 * Command byte (controller RAM 0):
 *   0 IRQ1 enable  1 IRQ12 enable  2 SYS  4 keyboard clock disabled
 *   5 mouse clock disabled  6 translate
 */
#include "devices/i8042.h"

#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/port92.h"

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS     0x04
#define CB_KBD_OFF 0x10
#define CB_AUX_OFF 0x20
#define CB_XLAT    0x40

#define ACK    0xfa
#define RESEND 0xfe

/* Set 2 -> set 1 translation of the keys a PC keyboard has (IBM AT
 * keyboard controller translation); other bytes pass unchanged. */
static const uint8_t xlat_tab[0x85] = {
	[0x76] = 0x01, [0x16] = 0x02, [0x1e] = 0x03, [0x26] = 0x04, [0x25] = 0x05, [0x2e] = 0x06,
	[0x36] = 0x07, [0x3d] = 0x08, [0x3e] = 0x09, [0x46] = 0x0a, [0x45] = 0x0b, [0x4e] = 0x0c,
	[0x55] = 0x0d, [0x66] = 0x0e, [0x0d] = 0x0f, [0x15] = 0x10, [0x1d] = 0x11, [0x24] = 0x12,
	[0x2d] = 0x13, [0x2c] = 0x14, [0x35] = 0x15, [0x3c] = 0x16, [0x43] = 0x17, [0x44] = 0x18,
	[0x4d] = 0x19, [0x54] = 0x1a, [0x5b] = 0x1b, [0x5a] = 0x1c, [0x14] = 0x1d, [0x1c] = 0x1e,
	[0x1b] = 0x1f, [0x23] = 0x20, [0x2b] = 0x21, [0x34] = 0x22, [0x33] = 0x23, [0x3b] = 0x24,
	[0x42] = 0x25, [0x4b] = 0x26, [0x4c] = 0x27, [0x52] = 0x28, [0x0e] = 0x29, [0x12] = 0x2a,
	[0x5d] = 0x2b, [0x1a] = 0x2c, [0x22] = 0x2d, [0x21] = 0x2e, [0x2a] = 0x2f, [0x32] = 0x30,
	[0x31] = 0x31, [0x3a] = 0x32, [0x41] = 0x33, [0x49] = 0x34, [0x4a] = 0x35, [0x59] = 0x36,
	[0x7c] = 0x37, [0x11] = 0x38, [0x29] = 0x39, [0x58] = 0x3a, [0x05] = 0x3b, [0x06] = 0x3c,
	[0x04] = 0x3d, [0x0c] = 0x3e, [0x03] = 0x3f, [0x0b] = 0x40, [0x83] = 0x41, [0x0a] = 0x42,
	[0x01] = 0x43, [0x09] = 0x44, [0x77] = 0x45, [0x7e] = 0x46, [0x6c] = 0x47, [0x75] = 0x48,
	[0x7d] = 0x49, [0x7b] = 0x4a, [0x6b] = 0x4b, [0x73] = 0x4c, [0x74] = 0x4d, [0x79] = 0x4e,
	[0x69] = 0x4f, [0x72] = 0x50, [0x7a] = 0x51, [0x70] = 0x52, [0x71] = 0x53, [0x84] = 0x54,
	[0x61] = 0x56, [0x78] = 0x57, [0x07] = 0x58,
};

static void q_push(struct ps2_queue *q, uint8_t b)
{
	if (q->count >= PS2_QUEUE_SIZE)
		return; /* full: the byte is lost (a real device would stall) */
	q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = b;
	q->count++;
}

static uint8_t q_pop(struct ps2_queue *q)
{
	uint8_t b = q->data[q->head];
	q->head = (q->head + 1) % PS2_QUEUE_SIZE;
	q->count--;
	return b;
}

static inline uint8_t cmd_byte(const struct i8042 *k)
{
	return k->ram[0];
}

static void update_irq(struct i8042 *k)
{
	bool kl = k->obf && !k->out_aux && (cmd_byte(k) & CB_KBD_INT);
	bool al = k->obf && k->out_aux && (cmd_byte(k) & CB_AUX_INT);
	if (kl != k->kbd_level) {
		k->kbd_level = kl;
		irq_set(&k->irq_kbd, kl);
	}
	if (al != k->aux_level) {
		k->aux_level = al;
		irq_set(&k->irq_aux, al);
	}
}

/* Translate one keyboard byte; returns false when it is swallowed (the F0
 * break prefix, which sets bit 7 of the next code instead). */
static bool translate(struct i8042 *k, uint8_t *b)
{
	if (*b == 0xf0) {
		k->xlat_break = true;
		return false;
	}
	uint8_t v = *b < sizeof(xlat_tab) && xlat_tab[*b] ? xlat_tab[*b] : *b;
	if (k->xlat_break) {
		v |= 0x80;
		k->xlat_break = false;
	}
	*b = v;
	return true;
}

/* Move the next byte into the empty output buffer. */
static void refill(struct i8042 *k)
{
	while (!k->obf) {
		uint8_t b;
		/* Bytes the controller makes itself bypass the port disables. */
		if (k->ctl_q.count) {
			k->out_buf = q_pop(&k->ctl_q);
			k->out_aux = false;
		} else if (k->ctl_aux_q.count) {
			k->out_buf = q_pop(&k->ctl_aux_q);
			k->out_aux = true;
		} else if (k->kbd_q.count && !(cmd_byte(k) & CB_KBD_OFF)) {
			b = q_pop(&k->kbd_q);
			if ((cmd_byte(k) & CB_XLAT) && !translate(k, &b))
				continue;
			k->out_buf = b;
			k->out_aux = false;
		} else if (k->aux_q.count && !(cmd_byte(k) & CB_AUX_OFF)) {
			k->out_buf = q_pop(&k->aux_q);
			k->out_aux = true;
		} else {
			break;
		}
		k->obf = true;
	}
	update_irq(k);
}

/* ---- keyboard ---- */

static void kbd_send(struct i8042 *k, uint8_t b)
{
	k->kbd_last = b;
	q_push(&k->kbd_q, b);
}

static void kbd_defaults(struct i8042 *k)
{
	k->kbd_set = 2;
	k->kbd_typematic = 0x2b;
	k->kbd_pending = 0;
}

static void kbd_write(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending && v < 0xed) {
		uint8_t c = k->kbd_pending;
		k->kbd_pending = 0;
		switch (c) {
		case 0xed: /* set LEDs */
			k->kbd_leds = v & 7;
			kbd_send(k, ACK);
			break;
		case 0xf3: /* typematic rate/delay */
			k->kbd_typematic = v & 0x7f;
			kbd_send(k, ACK);
			break;
		default: /* 0xf0: scan code set */
			if (v == 0) {
				kbd_send(k, ACK);
				kbd_send(k, k->kbd_set);
			} else if (v <= 3) {
				k->kbd_set = v;
				kbd_send(k, ACK);
			} else {
				kbd_send(k, RESEND);
			}
			break;
		}
		return;
	}
	/* A command byte (>= 0xed) also cancels a pending parameter. */
	k->kbd_pending = 0;
	switch (v) {
	case 0xed:
	case 0xf0:
	case 0xf3:
		k->kbd_pending = v;
		kbd_send(k, ACK);
		break;
	case 0xee: /* echo */
		kbd_send(k, 0xee);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		kbd_send(k, ACK);
		kbd_send(k, 0xab);
		kbd_send(k, 0x83);
		break;
	case 0xf4: /* enable scanning */
		k->kbd_scanning = true;
		kbd_send(k, ACK);
		break;
	case 0xf5: /* disable scanning and restore defaults */
		k->kbd_scanning = false;
		kbd_defaults(k);
		kbd_send(k, ACK);
		break;
	case 0xf6: /* restore defaults */
		kbd_defaults(k);
		kbd_send(k, ACK);
		break;
	case 0xfe: /* resend */
		q_push(&k->kbd_q, k->kbd_last);
		break;
	case 0xff: /* reset: ACK, then BAT passed */
		kbd_defaults(k);
		k->kbd_leds = 0;
		k->kbd_scanning = true;
		k->kbd_q.count = 0;
		kbd_send(k, ACK);
		kbd_send(k, 0xaa);
		break;
	default:
		if (v >= 0xf7) {
			kbd_send(k, ACK); /* set-3 key type commands: accepted */
		} else {
			kbd_send(k, RESEND);
		}
		break;
	}
}

void i8042_kbd_put(struct i8042 *k, const uint8_t *codes, size_t n)
{
	if (!k->kbd_scanning)
		return;
	for (size_t i = 0; i < n; i++)
		q_push(&k->kbd_q, codes[i]);
	refill(k);
}

/* ---- mouse ---- */

static void aux_send(struct i8042 *k, uint8_t b)
{
	k->aux_last = b;
	q_push(&k->aux_q, b);
}

static void aux_defaults(struct i8042 *k)
{
	k->aux_rate = 100;
	k->aux_res = 2; /* 4 counts/mm */
	k->aux_scale21 = false;
	k->aux_enabled = false;
	k->aux_remote = false;
	k->aux_pending = 0;
}

static void aux_packet(struct i8042 *k, int dx, int dy, int dz)
{
	uint8_t b0 = 0x08 | (k->aux_buttons & 7);
	if (dx < -255 || dx > 255)
		b0 |= 0x40;
	if (dy < -255 || dy > 255)
		b0 |= 0x80;
	dx = dx < -255 ? -255 : dx > 255 ? 255 : dx;
	dy = dy < -255 ? -255 : dy > 255 ? 255 : dy;
	if (dx < 0)
		b0 |= 0x10;
	if (dy < 0)
		b0 |= 0x20;
	aux_send(k, b0);
	aux_send(k, (uint8_t)dx);
	aux_send(k, (uint8_t)dy);
	if (k->aux_id == 3 || k->aux_id == 4) {
		dz = dz < -8 ? -8 : dz > 7 ? 7 : dz;
		aux_send(k, (uint8_t)(dz & 0x0f));
	}
}

static void aux_write(struct i8042 *k, uint8_t v)
{
	if (k->aux_wrap && v != 0xec && v != 0xff) {
		aux_send(k, v); /* wrap (echo) mode */
		return;
	}
	if (k->aux_pending) {
		uint8_t c = k->aux_pending;
		k->aux_pending = 0;
		if (c == 0xf3) {
			k->aux_rate = v;
			k->aux_rates[0] = k->aux_rates[1];
			k->aux_rates[1] = k->aux_rates[2];
			k->aux_rates[2] = v;
			/* IntelliMouse knock: rates 200, 100, 80 give ID 3; then
			 * 200, 200, 80 give ID 4 (IntelliMouse Explorer). */
			if (k->aux_rates[0] == 200 && k->aux_rates[1] == 100 &&
			    k->aux_rates[2] == 80)
				k->aux_id = 3;
			else if (k->aux_id == 3 && k->aux_rates[0] == 200 &&
				 k->aux_rates[1] == 200 && k->aux_rates[2] == 80)
				k->aux_id = 4;
		} else { /* 0xe8 */
			k->aux_res = v & 3;
		}
		aux_send(k, ACK);
		return;
	}
	switch (v) {
	case 0xe6: /* scaling 1:1 */
		k->aux_scale21 = false;
		aux_send(k, ACK);
		break;
	case 0xe7: /* scaling 2:1 */
		k->aux_scale21 = true;
		aux_send(k, ACK);
		break;
	case 0xe8: /* set resolution */
	case 0xf3: /* set sample rate */
		k->aux_pending = v;
		aux_send(k, ACK);
		break;
	case 0xe9: /* status request */
		aux_send(k, ACK);
		aux_send(k, (uint8_t)((k->aux_remote ? 0x40 : 0) | (k->aux_enabled ? 0x20 : 0) |
				      (k->aux_scale21 ? 0x10 : 0) | (k->aux_buttons & 1 ? 4 : 0) |
				      (k->aux_buttons & 4 ? 2 : 0) | (k->aux_buttons & 2 ? 1 : 0)));
		aux_send(k, k->aux_res);
		aux_send(k, k->aux_rate);
		break;
	case 0xea: /* stream mode */
		k->aux_remote = false;
		aux_send(k, ACK);
		break;
	case 0xeb: /* read data */
		aux_send(k, ACK);
		aux_packet(k, 0, 0, 0);
		break;
	case 0xec: /* reset wrap mode */
		k->aux_wrap = false;
		aux_send(k, ACK);
		break;
	case 0xee: /* wrap mode */
		k->aux_wrap = true;
		aux_send(k, ACK);
		break;
	case 0xf0: /* remote mode */
		k->aux_remote = true;
		aux_send(k, ACK);
		break;
	case 0xf2: /* get device ID */
		aux_send(k, ACK);
		aux_send(k, k->aux_id);
		break;
	case 0xf4: /* enable data reporting */
		k->aux_enabled = true;
		aux_send(k, ACK);
		break;
	case 0xf5: /* disable data reporting */
		k->aux_enabled = false;
		aux_send(k, ACK);
		break;
	case 0xf6: /* set defaults */
		aux_defaults(k);
		aux_send(k, ACK);
		break;
	case 0xfe: /* resend */
		q_push(&k->aux_q, k->aux_last);
		break;
	case 0xff: /* reset: ACK, BAT passed, ID 0 */
		aux_defaults(k);
		k->aux_wrap = false;
		k->aux_id = 0;
		k->aux_q.count = 0;
		aux_send(k, ACK);
		aux_send(k, 0xaa);
		aux_send(k, 0x00);
		break;
	default:
		aux_send(k, RESEND);
		break;
	}
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons)
{
	k->aux_buttons = (uint8_t)(buttons & 7);
	if (!k->aux_enabled || k->aux_remote || k->aux_wrap)
		return;
	if (k->aux_q.count + 4 > PS2_QUEUE_SIZE)
		return; /* host faster than the guest: drop the packet whole */
	aux_packet(k, dx, dy, dz);
	refill(k);
}

/* ---- controller ---- */

static void ctl_reply(struct i8042 *k, uint8_t b)
{
	q_push(&k->ctl_q, b);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	machine_set_a20(k->m, v & 0x02);
	if (!(v & 0x01))
		machine_request_reset(k->m); /* reset line is active low */
}

static uint8_t read_outport(const struct i8042 *k)
{
	/* Bits 4/5 are the IRQ1/IRQ12 (output buffer full) lines. */
	return (uint8_t)((k->outport & ~0x30u) | (k->kbd_level ? 0x10 : 0) |
			 (k->aux_level ? 0x20 : 0));
}

static void controller_cmd(struct i8042 *k, uint8_t v)
{
	if (v >= 0x20 && v <= 0x3f) { /* read controller RAM */
		ctl_reply(k, k->ram[v & 0x1f]);
		return;
	}
	if ((v >= 0x60 && v <= 0x7f) || (v >= 0xd1 && v <= 0xd4)) {
		k->pending_cmd = v; /* the data byte follows on port 0x60 */
		return;
	}
	if (v >= 0xf0) {
		/* Pulse output port bits whose mask bit is 0 (bit 0: reset). */
		if (!(v & 1))
			machine_request_reset(k->m);
		return;
	}
	switch (v) {
	case 0xa4: /* password installed? no */
		ctl_reply(k, 0xf1);
		break;
	case 0xa7: /* disable mouse port */
		k->ram[0] |= CB_AUX_OFF;
		break;
	case 0xa8: /* enable mouse port */
		k->ram[0] &= (uint8_t)~CB_AUX_OFF;
		break;
	case 0xa9: /* mouse interface test: OK */
	case 0xab: /* keyboard interface test: OK */
		ctl_reply(k, 0x00);
		break;
	case 0xaa: /* controller self-test: passed */
		k->sys_flag = true;
		ctl_reply(k, 0x55);
		break;
	case 0xad: /* disable keyboard */
		k->ram[0] |= CB_KBD_OFF;
		break;
	case 0xae: /* enable keyboard */
		k->ram[0] &= (uint8_t)~CB_KBD_OFF;
		break;
	case 0xc0: /* read input port: keyboard not inhibited */
		ctl_reply(k, 0x80);
		break;
	case 0xd0: /* read output port */
		ctl_reply(k, read_outport(k));
		break;
	case 0xdd: /* A20 off (HP Vectra-style shortcut) */
		write_outport(k, k->outport & ~0x02);
		break;
	case 0xdf: /* A20 on */
		write_outport(k, k->outport | 0x02);
		break;
	case 0xe0: /* read test inputs */
		ctl_reply(k, 0x00);
		break;
	default:
		break; /* unknown commands are ignored, as on most controllers */
	}
}

static void controller_data(struct i8042 *k, uint8_t v)
{
	uint8_t c = k->pending_cmd;
	k->pending_cmd = 0;
	if (c >= 0x60 && c <= 0x7f) {
		k->ram[c & 0x1f] = v;
		if (c == 0x60)
			k->sys_flag = v & CB_SYS;
		return;
	}
	switch (c) {
	case 0xd1:
		write_outport(k, v);
		break;
	case 0xd2: /* as if the keyboard sent it */
		ctl_reply(k, v);
		break;
	case 0xd3: /* as if the mouse sent it (Linux's AUX loopback test) */
		q_push(&k->ctl_aux_q, v);
		break;
	case 0xd4: /* to the mouse */
		aux_write(k, v);
		break;
	default:
		/* Sending to the keyboard enables its interface again (the
		 * controller must clock the byte out), as on PC controllers. */
		k->ram[0] &= (uint8_t)~CB_KBD_OFF;
		kbd_write(k, v);
		break;
	}
}

static uint32_t kbc_read(void *opaque, uint16_t port, unsigned size)
{
	struct i8042 *k = opaque;
	if (port == 0x64) {
		return (k->obf ? 0x01 : 0) | (k->sys_flag ? 0x04 : 0) | (k->last_cmd ? 0x08 : 0) |
		       0x10 | (k->obf && k->out_aux ? 0x20 : 0);
	}
	uint8_t v = k->out_buf;
	k->obf = false;
	/* The line drops before the next byte raises it again: an
	 * edge-triggered PIC must see one edge per byte. */
	update_irq(k);
	refill(k);
	return v;
}

static void kbc_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = (uint8_t)val;
	if (port == 0x64) {
		k->last_cmd = true;
		controller_cmd(k, v);
	} else {
		k->last_cmd = false;
		controller_data(k, v);
	}
	refill(k);
}

static const struct ioport_ops kbc_ops = {
	.read = kbc_read,
	.write = kbc_write,
	.byte_only = true,
};

void i8042_reset(struct i8042 *k)
{
	for (unsigned i = 0; i < sizeof(k->ram); i++)
		k->ram[i] = 0;
	k->ram[0] = CB_XLAT | CB_KBD_INT;
	k->outport = 0xcf; /* reset line high, A20 on, clock/data lines idle */
	k->obf = k->out_aux = false;
	k->sys_flag = false;
	k->last_cmd = false;
	k->pending_cmd = 0;
	k->xlat_break = false;
	k->ctl_q.count = k->ctl_aux_q.count = k->kbd_q.count = k->aux_q.count = 0;
	kbd_defaults(k);
	k->kbd_leds = 0;
	k->kbd_scanning = true;
	aux_defaults(k);
	k->aux_wrap = false;
	k->aux_id = 0;
	k->aux_buttons = 0;
	update_irq(k);
}

void i8042_init(struct machine *m, struct i8042 *k)
{
	k->m = m;
	k->kbd_level = k->aux_level = false;
	i8042_reset(k);
	ioport_register(m->io, 0x60, 1, &kbc_ops, k, "i8042");
	ioport_register(m->io, 0x64, 1, &kbc_ops, k, "i8042");
}
