/*
 * g64_smoke — long mode reached through the boot code (PAE, EFER.LME, 2 MiB
 * pages), 64-bit integer work, and the console/exit ports.
 */
#include "guest.h"

static uint64_t collatz_steps(uint64_t n)
{
	uint64_t s = 0;
	while (n != 1) {
		n = (n & 1) ? 3 * n + 1 : n / 2;
		s++;
	}
	return s;
}

int guest_main(void)
{
	uint64_t cr0, cr4, efer;
	uint32_t lo, hi;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	efer = (uint64_t)hi << 32 | lo;
	check(cr0 & 0x80000001u, "CR0.PG and PE set (%lx)", cr0);
	check(cr4 & 0x20, "CR4.PAE set");
	check((efer & 0x500) == 0x500, "EFER.LME and LMA set (%lx)", efer);
	check(collatz_steps(27) == 111, "collatz(27) = %lu", collatz_steps(27));
	uint64_t x = 0xfedcba9876543210ull;
	check(__builtin_popcountll(x) == 32, "popcount via generic code");
	check((x >> 60) == 0xf && (x << 60) == 0ull, "64-bit shifts");
	unsigned __int128 p = (unsigned __int128)x * x;
	check((uint64_t)(p >> 64) == 0xfdbac097c8dc5accull, "128-bit product high %lx",
	      (uint64_t)(p >> 64));
	return report("g64_smoke");
}
