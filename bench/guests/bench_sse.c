/*
 * bench_sse — SSE2 floating-point loop (double-precision n-body-like update
 * over arrays) compiled with -msse2 for the SIMD MIPS figure.
 */
#include "guest.h"

#define N 1024
static double x[N], v[N];

int guest_main(void)
{
	for (int i = 0; i < N; i++) {
		x[i] = i * 0.5;
		v[i] = 1.0 / (i + 1);
	}
	for (int step = 0; step < 2000; step++)
		for (int i = 0; i < N; i++) {
			double a = -x[i] * 0.001 + v[(i + 1) & (N - 1)] * 0.5;
			v[i] = v[i] * 0.999 + a;
			x[i] += v[i] * 0.01;
		}
	double s = 0;
	for (int i = 0; i < N; i++)
		s += x[i];
	guest_printf("bench_sse: checksum %ld\n", (long)(s * 1000));
	return 0;
}
