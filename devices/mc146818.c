/*
 * devices/mc146818.c — RTC and CMOS RAM (see mc146818.h).
 *
 * Written from the Motorola MC146818A datasheet. The time registers are
 * brought up to date lazily: the device remembers when the next update
 * cycle (second boundary) is due and, whenever the guest looks, runs the
 * update cycles that have passed since (advancing the registers, checking
 * the alarm for every second passed, setting UF). The periodic flag PF is
 * derived the same way from the 32.768 kHz divider chain. A vtimer is armed
 * only when an enabled interrupt (PIE/AIE/UIE) could raise IRQ8 and IRQF is
 * not already set, so an RTC nobody listens to costs nothing.
 *
 * Register A: bit 7 UIP (read-only), 6:4 DV divider (11x = reset), 3:0 RS.
 * Register B: 7 SET, 6 PIE, 5 AIE, 4 UIE, 3 SQWE, 2 DM (1 = binary),
 *             1 24/12 (1 = 24 h), 0 DSE.
 * Register C: 7 IRQF, 6 PF, 5 AF, 4 UF; read-only, cleared by reading.
 * Register D: 7 VRT (valid RAM and time), read-only.
 */
#include "devices/mc146818.h"

#include <time.h>

#include "devices/ioport.h"
#include "devices/machine.h"

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10

#define NS_PER_SEC 1000000000ull
/* UIP rises this long before an update cycle (datasheet tBUC). */
#define UIP_LEAD_NS 244000ull

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ---- */

static int64_t days_from_civil(int64_t y, unsigned mon, unsigned d)
{
	y -= mon <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *mon, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*mon = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*mon <= 2);
}

/* ---- register encoding (BCD or binary, 12 or 24 hours, per register B) ---- */

static inline bool binary(const struct mc146818 *r)
{
	return r->cmos[RTC_REG_B] & B_DM;
}

static unsigned dec(const struct mc146818 *r, uint8_t v)
{
	return binary(r) ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t enc(const struct mc146818 *r, unsigned v)
{
	return binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec_hour(const struct mc146818 *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return dec(r, v);
	unsigned h = dec(r, v & 0x7f) % 12;
	return h + (v & 0x80 ? 12 : 0);
}

static uint8_t enc_hour(const struct mc146818 *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int64_t regs_to_time(const struct mc146818 *r)
{
	const uint8_t *c = r->cmos;
	unsigned yy = dec(r, c[RTC_YEAR]) % 100;
	unsigned cent = dec(r, c[RTC_CENTURY]);
	if (cent < 19 || cent > 99)
		cent = yy < 70 ? 20 : 19;
	unsigned mon = dec(r, c[RTC_MONTH]), day = dec(r, c[RTC_DAY]);
	if (mon < 1 || mon > 12)
		mon = 1;
	if (day < 1 || day > 31)
		day = 1;
	int64_t days = days_from_civil((int64_t)cent * 100 + yy, mon, day);
	return days * 86400 + dec_hour(r, c[RTC_HOUR]) % 24 * 3600 + dec(r, c[RTC_MIN]) % 60 * 60 +
	       dec(r, c[RTC_SEC]) % 60;
}

static void time_to_regs(struct mc146818 *r, int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned mon, d;
	civil_from_days(days, &y, &mon, &d);
	uint8_t *c = r->cmos;
	c[RTC_SEC] = enc(r, (unsigned)(secs % 60));
	c[RTC_MIN] = enc(r, (unsigned)(secs / 60 % 60));
	c[RTC_HOUR] = enc_hour(r, (unsigned)(secs / 3600));
	c[RTC_DOW] = enc(r, (unsigned)(((days % 7) + 11) % 7) + 1); /* 1970-01-01: Thu = 5 */
	c[RTC_DAY] = enc(r, d);
	c[RTC_MONTH] = enc(r, mon);
	c[RTC_YEAR] = enc(r, (unsigned)(y % 100));
	c[RTC_CENTURY] = enc(r, (unsigned)(y / 100 % 100));
}

/* Alarm registers with bits 7:6 = 11 match any value. */
static bool alarm_field(const struct mc146818 *r, uint8_t a, unsigned v, bool hour)
{
	if ((a & 0xc0) == 0xc0)
		return true;
	return (hour ? dec_hour(r, a) : dec(r, a)) == v;
}

static bool alarm_match(const struct mc146818 *r, int64_t t)
{
	int64_t s = ((t % 86400) + 86400) % 86400;
	return alarm_field(r, r->cmos[RTC_SEC_ALARM], (unsigned)(s % 60), false) &&
	       alarm_field(r, r->cmos[RTC_MIN_ALARM], (unsigned)(s / 60 % 60), false) &&
	       alarm_field(r, r->cmos[RTC_HOUR_ALARM], (unsigned)(s / 3600), true);
}

/* ---- divider chain and update cycles ---- */

static inline bool running(const struct mc146818 *r)
{
	return ((r->cmos[RTC_REG_A] >> 4) & 7) < 6;
}

/* Periodic rate in 32.768 kHz cycles, 0 = off (datasheet Table 5). */
static uint64_t period_cycles(const struct mc146818 *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & 0xf;
	if (rs == 0)
		return 0;
	if (rs <= 2)
		return 128u << (rs - 1);
	return 1u << (rs - 1);
}

static uint64_t cycles_since_base(const struct mc146818 *r, uint64_t now)
{
	return (uint64_t)((unsigned __int128)(now - r->div_base_ns) * 32768 / NS_PER_SEC);
}

static uint64_t cycle_to_ns(const struct mc146818 *r, uint64_t c)
{
	return r->div_base_ns + (uint64_t)(((unsigned __int128)c * NS_PER_SEC + 32767) / 32768);
}

/* Run the update cycles and periodic ticks that have passed. */
static void rtc_sync(struct mc146818 *r)
{
	if (!running(r))
		return;
	uint64_t now = clock_now(r->m);
	uint64_t per = period_cycles(r);
	if (per) {
		uint64_t idx = cycles_since_base(r, now) / per;
		if (idx > r->period_index)
			r->cmos[RTC_REG_C] |= C_PF;
		r->period_index = idx;
	}
	if (now < r->next_update_ns)
		return;
	uint64_t n = (now - r->next_update_ns) / NS_PER_SEC + 1;
	r->next_update_ns += n * NS_PER_SEC;
	if (r->cmos[RTC_REG_B] & B_SET)
		return; /* SET inhibits update cycles */
	int64_t t = regs_to_time(r);
	/* The alarm repeats at most daily: a day of seconds covers it. */
	uint64_t first = n > 86400 ? n - 86400 : 1;
	for (uint64_t i = first; i <= n; i++) {
		if (alarm_match(r, t + (int64_t)i)) {
			r->cmos[RTC_REG_C] |= C_AF;
			break;
		}
	}
	time_to_regs(r, t + (int64_t)n);
	r->cmos[RTC_REG_C] |= C_UF;
}

/* Recompute IRQF and IRQ8, and arm the timer for the next event that could
 * raise it. */
static void rtc_update(struct mc146818 *r)
{
	uint8_t b = r->cmos[RTC_REG_B], *c = &r->cmos[RTC_REG_C];
	if (*c & b & (C_PF | C_AF | C_UF))
		*c |= C_IRQF;
	bool level = *c & C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_set(&r->irq, level);
	}
	uint64_t next = UINT64_MAX;
	if (!level && running(r)) {
		uint64_t per = period_cycles(r);
		if ((b & B_PIE) && per)
			next = cycle_to_ns(r, (r->period_index + 1) * per);
		if ((b & (B_UIE | B_AIE)) && !(b & B_SET) && r->next_update_ns < next)
			next = r->next_update_ns;
	}
	if (next == UINT64_MAX)
		vtimer_cancel(r->m, &r->timer);
	else
		vtimer_arm(r->m, &r->timer, next);
}

static void rtc_timer(void *opaque)
{
	struct mc146818 *r = opaque;
	rtc_sync(r);
	rtc_update(r);
}

/* ---- ports ---- */

static uint8_t read_reg(struct mc146818 *r, unsigned idx)
{
	uint8_t v;
	switch (idx) {
	case RTC_REG_A:
		rtc_sync(r);
		v = r->cmos[RTC_REG_A] & 0x7f;
		if (running(r) && !(r->cmos[RTC_REG_B] & B_SET) &&
		    r->next_update_ns - clock_now(r->m) <= UIP_LEAD_NS)
			v |= A_UIP;
		return v;
	case RTC_REG_C:
		rtc_sync(r);
		rtc_update(r);
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		rtc_update(r);
		return v;
	case RTC_REG_D:
		return 0x80; /* VRT: battery fine */
	default:
		if (idx <= RTC_YEAR || idx == RTC_CENTURY)
			rtc_sync(r);
		return r->cmos[idx];
	}
}

static void write_reg(struct mc146818 *r, unsigned idx, uint8_t v)
{
	uint64_t now = clock_now(r->m);
	switch (idx) {
	case RTC_REG_A: {
		rtc_sync(r);
		bool was = running(r);
		r->cmos[RTC_REG_A] = v & 0x7f;
		if (!was && running(r)) {
			/* Leaving divider reset: the first update cycle comes
			 * 500 ms later (datasheet, "Divider Stages"). */
			r->div_base_ns = now;
			r->next_update_ns = now + NS_PER_SEC / 2;
			r->period_index = 0;
		} else if (running(r)) {
			uint64_t per = period_cycles(r);
			r->period_index = per ? cycles_since_base(r, now) / per : 0;
		}
		break;
	}
	case RTC_REG_B:
		rtc_sync(r);
		/* SET = 1 also clears UIE (datasheet, register B bit 7). */
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;
		r->cmos[RTC_REG_B] = v;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		if (idx <= RTC_YEAR || idx == RTC_CENTURY)
			rtc_sync(r);
		r->cmos[idx] = v;
		return;
	}
	rtc_update(r);
}

static uint32_t rtc_read(void *opaque, uint16_t port, unsigned size)
{
	struct mc146818 *r = opaque;
	if (port == 0x70)
		return 0xff; /* the index register is write-only */
	return read_reg(r, r->index);
}

static void rtc_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct mc146818 *r = opaque;
	if (port == 0x70) {
		r->index = val & 0x7f;
		r->nmi_disabled = val & 0x80;
		return;
	}
	write_reg(r, r->index, (uint8_t)val);
}

static const struct ioport_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
	.byte_only = true,
};

/* ---- board API ---- */

void mc146818_set_time(struct mc146818 *r, int64_t t)
{
	time_to_regs(r, t);
	r->next_update_ns = clock_now(r->m) + NS_PER_SEC;
	rtc_update(r);
}

int64_t mc146818_get_time(struct mc146818 *r)
{
	rtc_sync(r);
	return regs_to_time(r);
}

void mc146818_reset(struct mc146818 *r)
{
	rtc_sync(r);
	r->cmos[RTC_REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | 0x08);
	r->cmos[RTC_REG_C] = 0;
	rtc_update(r);
}

void mc146818_update_checksum(struct mc146818 *r)
{
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = (uint8_t)(sum >> 8);
	r->cmos[0x2f] = (uint8_t)sum;
}

void mc146818_set_byte(struct mc146818 *r, unsigned idx, uint8_t val)
{
	if (idx >= 128)
		return;
	r->cmos[idx] = val;
	if (idx >= 0x10 && idx <= 0x2d)
		mc146818_update_checksum(r);
}

uint8_t mc146818_get_byte(const struct mc146818 *r, unsigned idx)
{
	return idx < 128 ? r->cmos[idx] : 0xff;
}

void mc146818_init(struct machine *m, struct mc146818 *r)
{
	r->m = m;
	r->index = 0;
	r->nmi_disabled = false;
	r->irq_level = false;
	vtimer_init(&r->timer, rtc_timer, r);
	r->cmos[RTC_REG_A] = 0x26;  /* 32.768 kHz, 1024 Hz periodic rate */
	r->cmos[RTC_REG_B] = B_24H; /* BCD, 24 h, no interrupts */
	r->cmos[RTC_REG_C] = 0;
	r->cmos[RTC_REG_D] = 0x80;
	uint64_t now = clock_now(m);
	r->div_base_ns = now;
	r->period_index = 0;
	mc146818_set_time(r, m->cfg.deterministic ? RTC_FIXED_EPOCH : (int64_t)time(NULL));
	mc146818_update_checksum(r);
	ioport_register(m->io, 0x70, 2, &rtc_ops, r, "rtc");
}
