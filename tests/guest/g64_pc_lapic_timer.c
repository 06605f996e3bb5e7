/*
 * g64_pc_lapic_timer — the local APIC timer across one-shot <-> periodic
 * mode changes (SDM Vol. 3 §11.5.4), through the xAPIC MMIO page: writing
 * the LVT timer does not reload the count, it goes on from where it is in
 * the new mode; a one-shot count that reached 0 stays 0 even when the mode
 * becomes periodic, until TMICT is written. Runs on the pc board.
 */
#include "trap.h"

#define APIC     0xfee00000ul
#define LVTT     0x320
#define TMICT    0x380
#define TMCCT    0x390
#define TDCR     0x3e0
#define SVR      0x0f0
#define MASKED   (1u << 16)
#define PERIODIC (1u << 17)
#define N        200000u

static uint32_t rd(unsigned r)
{
	return *(volatile uint32_t *)(APIC + r);
}
static void wr(unsigned r, uint32_t v)
{
	*(volatile uint32_t *)(APIC + r) = v;
}
/* Spin until TMCCT satisfies the condition (bounded). */
#define WAIT(cond)                                   \
	({                                           \
		uint32_t c_;                         \
		long n_ = 0;                         \
		do                                   \
			c_ = rd(TMCCT);              \
		while (!(cond) && ++n_ < 200000000); \
		c_;                                  \
	})

int guest_main(void)
{
	trap_init();
	wr(SVR, 0x1ff); /* software-enable */
	wr(TDCR, 0xb);  /* divide by 1 */
	wr(LVTT, MASKED | 0x40);
	wr(TMICT, N);
	uint32_t c = WAIT(c_ <= N / 2);
	check(c && c <= N / 2, "one-shot counts down: %u", c);
	wr(LVTT, MASKED | PERIODIC | 0x40);
	c = rd(TMCCT);
	check(c && c <= N / 2, "one-shot -> periodic keeps the count: %u (<= %u)", c, N / 2);
	check(rd(TMICT) == N, "TMICT unchanged: %u", rd(TMICT));
	c = WAIT(c_ > N / 2);
	check(c > N / 2, "periodic reloads from TMICT: %u", c);
	c = WAIT(c_ <= N / 2);
	wr(LVTT, MASKED | 0x40);
	c = rd(TMCCT);
	check(c && c <= N / 2, "periodic -> one-shot keeps the count: %u", c);
	c = WAIT(c_ == 0 || c_ > N / 2);
	check(c == 0, "one-shot reaches 0: %u", c);
	wr(LVTT, MASKED | PERIODIC | 0x40);
	c = rd(TMCCT);
	uint32_t c2 = WAIT(c_ != 0 || n_ > 100000);
	check(c == 0 && c2 == 0, "expired one-shot -> periodic stays 0: %u %u", c, c2);
	wr(TMICT, N);
	c = rd(TMCCT);
	check(c > N / 2, "TMICT restarts it: %u", c);
	wr(TMICT, 0);
	return report("g64_pc_lapic_timer");
}
