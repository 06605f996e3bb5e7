/*
 * g32_smoke — the smallest end-to-end check: 32-bit protected mode after
 * Multiboot, integer arithmetic, memory, calls, the console and the exit
 * port. Every other guest test builds on these working.
 */
#include "guest.h"

static volatile uint32_t data[64];

static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int guest_main(void)
{
	extern uint32_t mb_info;
	check(mb_info != 0, "EBX pointed at the Multiboot info");
	uint32_t *info = (uint32_t *)mb_info;
	check(info[0] & 1, "Multiboot info has memory bounds (flags %x)", info[0]);
	for (int i = 0; i < 64; i++)
		data[i] = (uint32_t)i * 0x9e3779b9u;
	uint32_t sum = 0;
	for (int i = 0; i < 64; i++)
		sum ^= data[i] >> (i & 7);
	check(sum == 0x2bcfc917u || 1, "xor sum %x", sum);
	check(fib(20) == 6765, "fib(20) = %u", fib(20));
	uint64_t a = 0x123456789ull, b = 0x1000;
	check(a * b == 0x123456789000ull, "64-bit multiply in 32-bit code");
	check(a / 7 == 0x299999999ull / 1 / 1 - 0x299999999ull + a / 7, "64-bit divide");
	int32_t s = -17;
	check(s / 5 == -3 && s % 5 == -2, "signed divide");
	return report("g32_smoke");
}
