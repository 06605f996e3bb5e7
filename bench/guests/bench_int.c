/*
 * bench_int — integer-heavy loop (hashing, arithmetic, branches) for the
 * interpreter's MIPS figure. Prints a checksum so the work can't be skipped.
 */
#include "guest.h"

int guest_main(void)
{
	uint64_t h = 0xcbf29ce484222325ull, acc = 0;
	for (uint32_t i = 0; i < 30000000u; i++) {
		h ^= i;
		h *= 0x100000001b3ull;
		acc += (h >> 7) & 0xff;
		if (acc & 1)
			acc ^= h;
	}
	guest_printf("bench_int: checksum %lx\n", acc);
	return 0;
}
