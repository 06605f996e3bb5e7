/*
 * bench_mem — memory-heavy loop: strided reads and writes over 16 MiB (many
 * pages, so the soft TLB and the page walker are exercised), plus memcpy-like
 * copies with REP MOVSB.
 */
#include "guest.h"

#define SIZE (16u << 20)
static uint8_t buf[SIZE] __attribute__((aligned(4096)));

int guest_main(void)
{
	uint64_t sum = 0;
	for (int round = 0; round < 12; round++) {
		for (uint32_t i = 0; i < SIZE; i += 64) {
			buf[i] = (uint8_t)(buf[(i * 7 + round * 4096) % SIZE] + i);
			sum += buf[i];
		}
		void *d = buf + SIZE / 2, *s = buf;
		unsigned long n = SIZE / 4;
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	}
	guest_printf("bench_mem: checksum %lx\n", sum);
	return 0;
}
