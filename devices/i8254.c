/*
 * devices/i8254.c — 8254 PIT and port 0x61 timer bits (see i8254.h).
 *
 * Written from the Intel 8254 datasheet (order no. 231164). Nothing ticks:
 * each counter remembers the PIT tick where its current cycle began and
 * computes count and OUT from the ticks elapsed since (tick = virtual ns *
 * 1.193182 MHz). Only counter 0's OUT reaches an interrupt line, so only
 * counter 0 arms a vtimer, and only for the next OUT edge that matters:
 *   mode 0  interrupt on terminal count: OUT low from the control word, high
 *           N ticks after the count is written; gate low pauses counting
 *   mode 1  retriggerable one-shot: gate rising edge starts N ticks of low
 *   mode 2  rate generator: period N, OUT low during the last tick; gate
 *           low stops it (OUT high), gate rising edge restarts it
 *   mode 3  square wave: high for ceil(N/2), low for floor(N/2)
 *   mode 4  software strobe: OUT low for one tick N ticks after the count
 *   mode 5  hardware strobe: the same, started by a gate rising edge
 * Strobes (modes 2, 4, 5) are sent to IRQ0 as one 0->1 pulse at the end of
 * the low tick, so an event handled late never loses the edge.
 * A count written while modes 2/3 run takes effect at the end of the current
 * period; in modes 0/4 it restarts counting; in modes 1/5 it waits for the
 * next trigger (datasheet, "Mode Definitions").
 */
#include "devices/i8254.h"

#include "devices/ioport.h"
#include "devices/machine.h"

#define NEVER UINT64_MAX

static uint64_t now_ticks(const struct i8254 *p)
{
	return (uint64_t)((unsigned __int128)clock_now(p->m) * PIT_HZ / 1000000000u);
}

/* First ns at which tick t has begun. */
static uint64_t tick_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint32_t from_bcd(uint16_t v)
{
	return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + (v >> 12) * 1000;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
			  (v / 1000 % 10) << 12);
}

/* Apply a count that was waiting for the end of a mode 2/3 period. */
static void resolve(struct pit_channel *c, uint64_t now)
{
	if (c->switch_at != NEVER && now >= c->switch_at) {
		c->n = c->cr;
		c->start = c->switch_at;
		c->switch_at = NEVER;
		c->null_count = false;
	}
}

/* Ticks counted in the current cycle (paused while the gate is low in the
 * modes where the gate enables counting). */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (!c->gate && c->mode != 1 && c->mode != 5)
		return c->paused_d;
	return now - c->start;
}

/* Counter value (binary, 0 meaning the full range) and OUT at tick now. */
static void ch_state(struct pit_channel *c, uint64_t now, uint32_t *cnt, bool *out)
{
	resolve(c, now);
	uint32_t n = c->n, mod = c->bcd ? 10000 : 65536;
	if (!c->loaded || ((c->mode == 1 || c->mode == 5) && !c->triggered)) {
		*cnt = n % mod;
		*out = c->mode != 0;
		return;
	}
	uint64_t d = elapsed(c, now), p;
	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		*cnt = (uint32_t)(((int64_t)n - (int64_t)(d % mod) + mod) % mod);
		if (c->mode <= 1)
			*out = d >= n;
		else
			*out = d != n;
		return;
	case 2:
		p = d % n;
		*cnt = (uint32_t)(n - p) % mod;
		*out = !c->gate || p != n - 1;
		return;
	default: /* 3 */
		p = d % n;
		if (p < (n + 1) / 2) {
			*cnt = (uint32_t)(n - 2 * p) % mod;
			*out = true;
		} else {
			*cnt = (uint32_t)(n - 2 * (p - (n + 1) / 2)) % mod;
			*out = !c->gate;
		}
		return;
	}
}

/* Next tick > now where OUT changes in a way IRQ0 must see; *pulse says it
 * is the end of a one-tick strobe. */
static uint64_t next_event(struct pit_channel *c, uint64_t now, bool *pulse)
{
	*pulse = false;
	if (!c->loaded)
		return NEVER;
	uint64_t d, p;
	uint32_t n = c->n;
	switch (c->mode) {
	case 0:
		if (!c->gate)
			return NEVER;
		d = now - c->start;
		return d < n ? c->start + n : NEVER;
	case 1:
		if (!c->triggered)
			return NEVER;
		d = now - c->start;
		return d < n ? c->start + n : NEVER;
	case 4:
	case 5:
		if (c->mode == 4 ? !c->gate : !c->triggered)
			return NEVER;
		d = now - c->start;
		*pulse = true;
		return d < (uint64_t)n + 1 ? c->start + n + 1 : NEVER;
	case 2:
		/* Count 1 is illegal in mode 2 (datasheet): no edges. */
		if (!c->gate || n < 2)
			return NEVER;
		d = now - c->start;
		*pulse = true;
		return c->start + (d / n + 1) * n;
	default: /* 3 */
		if (!c->gate || n < 2)
			return NEVER; /* count 1: OUT stays high */
		d = now - c->start;
		p = d % n;
		if (p < (n + 1) / 2)
			return c->start + d - p + (n + 1) / 2;
		return c->start + d - p + n;
	}
}

/* Recompute IRQ0 and arm the timer for counter 0's next edge. */
static void irq0_update(struct i8254 *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t now = now_ticks(p);
	uint32_t cnt;
	bool out;
	ch_state(c, now, &cnt, &out);
	if (out != p->irq0_level) {
		p->irq0_level = out;
		irq_set(&p->irq0, out);
	}
	uint64_t next = next_event(c, now, &p->pulse);
	if (c->switch_at != NEVER && c->switch_at < next)
		next = c->switch_at;
	if (next == NEVER)
		vtimer_cancel(p->m, &p->timer);
	else
		vtimer_arm(p->m, &p->timer, tick_to_ns(next));
}

static void pit_timer(void *opaque)
{
	struct i8254 *p = opaque;
	if (p->pulse && p->irq0_level) {
		/* End of a strobe: the low tick and the rising edge at once. */
		irq_set(&p->irq0, 0);
		irq_set(&p->irq0, 1);
	}
	irq0_update(p);
}

static void load_count(struct i8254 *p, struct pit_channel *c, uint16_t raw, uint64_t now)
{
	uint32_t v = c->bcd ? from_bcd(raw) : raw;
	if (v == 0)
		v = c->bcd ? 10000 : 65536;
	c->cr = v;
	switch (c->mode) {
	case 0:
	case 4:
		c->n = v;
		c->start = now;
		c->paused_d = 0;
		c->loaded = true;
		c->null_count = false;
		break;
	case 1:
	case 5:
		/* Used by the next gate trigger. */
		if (!c->triggered)
			c->n = v;
		c->loaded = true;
		c->null_count = true;
		break;
	default: /* 2, 3 */
		resolve(c, now);
		if (!c->loaded || !c->gate) {
			c->n = v;
			c->start = now;
			c->paused_d = 0;
			c->loaded = true;
			c->null_count = false;
		} else {
			uint64_t d = now - c->start;
			c->switch_at = c->start + (d / c->n + 1) * c->n;
			c->null_count = true;
		}
		break;
	}
}

static void write_control(struct i8254 *p, uint8_t v, uint64_t now)
{
	int sc = v >> 6;
	if (sc == 3) {
		/* Read-back: bit 5 = 0 latches count, bit 4 = 0 latches status,
		 * bits 3:1 select counters 2..0. */
		for (int i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			struct pit_channel *c = &p->ch[i];
			uint32_t cnt;
			bool out;
			ch_state(c, now, &cnt, &out);
			if (!(v & 0x20) && !c->count_latched) {
				c->latch = c->bcd ? to_bcd(cnt) : (uint16_t)cnt;
				c->count_latched = true;
			}
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (uint8_t)((out ? 0x80 : 0) |
						      (c->null_count ? 0x40 : 0) | c->ctrl);
				c->status_latched = true;
			}
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	int rw = (v >> 4) & 3;
	if (rw == 0) {
		/* Counter latch command; ignored while a latch is unread. */
		if (!c->count_latched) {
			uint32_t cnt;
			bool out;
			ch_state(c, now, &cnt, &out);
			c->latch = c->bcd ? to_bcd(cnt) : (uint16_t)cnt;
			c->count_latched = true;
		}
		return;
	}
	c->ctrl = v & 0x3f;
	c->rw = (uint8_t)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode >= 6)
		c->mode -= 4;
	c->bcd = v & 1;
	c->loaded = false;
	c->triggered = false;
	c->null_count = true;
	c->switch_at = NEVER;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
}

static void write_counter(struct i8254 *p, struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->rw) {
	case 1:
		load_count(p, c, v, now);
		break;
	case 2:
		load_count(p, c, (uint16_t)(v << 8), now);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops the count and
			 * sets OUT low at once. */
			if (c->mode == 0)
				c->loaded = false;
		} else {
			c->write_msb_next = false;
			load_count(p, c, (uint16_t)(c->write_lsb | v << 8), now);
		}
		break;
	}
}

static uint8_t read_counter(struct i8254 *p, struct pit_channel *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v;
	if (c->count_latched) {
		v = c->latch;
	} else {
		uint32_t cnt;
		bool out;
		ch_state(c, now, &cnt, &out);
		v = c->bcd ? to_bcd(cnt) : (uint16_t)cnt;
	}
	uint8_t b;
	switch (c->rw) {
	case 1:
		b = (uint8_t)v;
		c->count_latched = false;
		break;
	case 2:
		b = (uint8_t)(v >> 8);
		c->count_latched = false;
		break;
	default:
		b = c->read_msb_next ? (uint8_t)(v >> 8) : (uint8_t)v;
		if (c->read_msb_next)
			c->count_latched = false;
		c->read_msb_next = !c->read_msb_next;
		break;
	}
	return b;
}

void pit_set_gate(struct i8254 *p, int ch, bool level)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->gate == level)
		return;
	uint64_t now = now_ticks(p);
	resolve(c, now);
	if (level) {
		switch (c->mode) {
		case 0:
		case 4:
			c->start = now - c->paused_d;
			break;
		case 1:
		case 5:
			if (c->loaded) {
				c->n = c->cr;
				c->start = now;
				c->triggered = true;
				c->null_count = false;
			}
			break;
		default:
			if (c->loaded) {
				c->n = c->cr;
				c->start = now;
				c->switch_at = NEVER;
				c->null_count = false;
			}
			break;
		}
	} else {
		c->paused_d = now - c->start;
	}
	c->gate = level;
	if (ch == 0)
		irq0_update(p);
}

bool pit_get_out(struct i8254 *p, int ch)
{
	uint32_t cnt;
	bool out;
	ch_state(&p->ch[ch], now_ticks(p), &cnt, &out);
	return out;
}

static uint32_t pit_read(void *opaque, uint16_t port, unsigned size)
{
	struct i8254 *p = opaque;
	if (port == 0x61) {
		/* Bit 4 toggles with every DRAM refresh request (15.085 us);
		 * bit 5 is counter 2's OUT. Bits 7:6 (parity/IOCHK) read 0. */
		uint64_t ns = clock_now(p->m);
		return (p->port61 & 0x0f) | ((ns / 15085) & 1 ? 0x10 : 0) |
		       (pit_get_out(p, 2) ? 0x20 : 0);
	}
	if (port == 0x43)
		return 0xff; /* the control word register is write-only */
	return read_counter(p, &p->ch[port & 3], now_ticks(p));
}

static void pit_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct i8254 *p = opaque;
	uint8_t v = (uint8_t)val;
	if (port == 0x61) {
		p->port61 = v & 0x0f;
		pit_set_gate(p, 2, v & 1);
		return;
	}
	uint64_t now = now_ticks(p);
	if (port == 0x43)
		write_control(p, v, now);
	else
		write_counter(p, &p->ch[port & 3], v, now);
	if (port == 0x40 || (port == 0x43 && (v >> 6) == 0))
		irq0_update(p);
}

static const struct ioport_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
	.byte_only = true,
};

void i8254_reset(struct i8254 *p)
{
	for (int i = 0; i < 3; i++) {
		p->ch[i] = (struct pit_channel){ 0 };
		p->ch[i].gate = i != 2;
		p->ch[i].rw = 3;
		p->ch[i].ctrl = 0x30;
		p->ch[i].switch_at = NEVER;
		p->ch[i].n = p->ch[i].cr = 65536;
	}
	p->port61 = 0;
	p->pulse = false;
	irq0_update(p);
}

void i8254_init(struct machine *m, struct i8254 *p)
{
	p->m = m;
	p->irq0_level = false;
	vtimer_init(&p->timer, pit_timer, p);
	i8254_reset(p);
	ioport_register(m->io, 0x40, 4, &pit_ops, p, "pit");
	ioport_register(m->io, 0x61, 1, &pit_ops, p, "port61");
}
