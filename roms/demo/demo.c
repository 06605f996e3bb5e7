/*
 * roms/demo/demo.c — the demo guest `make demo` runs until nestbox boots
 * Linux: it reaches long mode through the Multiboot boot code, draws the
 * Mandelbrot set in ASCII with double-precision SSE2 arithmetic, sieves
 * primes with integer code, and prints what it found.
 */
#include "guest.h"

static void mandelbrot(void)
{
	const char *shade = " .:-=+*#%@";
	for (int y = 0; y < 24; y++) {
		for (int x = 0; x < 72; x++) {
			double cr = -2.2 + x * (3.2 / 72), ci = -1.2 + y * (2.4 / 24);
			double zr = 0, zi = 0;
			int i = 0;
			while (i < 60 && zr * zr + zi * zi < 4.0) {
				double t = zr * zr - zi * zi + cr;
				zi = 2 * zr * zi + ci;
				zr = t;
				i++;
			}
			guest_putc(shade[i >= 60 ? 9 : i % 9]);
		}
		guest_putc('\n');
	}
}

static unsigned char sieve[100000];

int guest_main(void)
{
	guest_puts("demo: nestbox demo guest, running in 64-bit long mode\n");
	mandelbrot();
	int count = 0;
	for (int i = 2; i < (int)sizeof(sieve); i++) {
		if (sieve[i])
			continue;
		count++;
		for (int j = i * 2; j < (int)sizeof(sieve); j += i)
			sieve[j] = 1;
	}
	guest_printf("demo: %d primes below %d\n", count, (int)sizeof(sieve));
	guest_puts("demo: done\n");
	return count == 9592 ? 0 : 1;
}
