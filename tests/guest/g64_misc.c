/*
 * g64_misc — system-visible odds and ends in 64-bit mode: CPUID consistency
 * (what is advertised works: POPCNT, LZCNT, BMI1/2, MOVBE, ADX, CMPXCHG16B),
 * RDTSC monotonic and CR4.TSD, RDTSCP/RDPID with IA32_TSC_AUX, RDRAND/RDSEED
 * CF=1, XGETBV/XSETBV and CR4.OSXSAVE, FS/GS base via MSRs and
 * RD/WRFSBASE (CR4.FSGSBASE), SWAPGS, CR8 (TPR).
 */
#include "trap.h"

static uint32_t c1[4], c7[4], e1[4];

static volatile uint64_t xv;
static volatile uint32_t xmsr;
static void f_xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xv = (uint64_t)hi << 32 | lo;
}
static void f_xsetbv0(void)
{
	__asm__ volatile("xsetbv" ::"a"((uint32_t)xv), "d"((uint32_t)(xv >> 32)), "c"(0));
}
static void f_wrfsbase(void)
{
	__asm__ volatile("wrfsbase %0" ::"r"(xv));
}
static void f_wrcr8(void)
{
	__asm__ volatile("mov %0, %%cr8" ::"r"(xv));
}
static void f_wrmsr(void)
{
	wrmsr(xmsr, xv);
}
static void u_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
}
static void u_swapgs(void)
{
	__asm__ volatile("swapgs");
}

static void test_cpuid(void)
{
	uint32_t r[4];
	cpuid2(0, 0, r);
	char vendor[13];
	*(uint32_t *)vendor = r[1];
	*(uint32_t *)(vendor + 4) = r[3];
	*(uint32_t *)(vendor + 8) = r[2];
	vendor[12] = 0;
	guest_printf("g64_misc: vendor %s max leaf %x\n", vendor, r[0]);
	check(r[0] >= 7, "CPUID max basic leaf %x >= 7", r[0]);
	check(r[1] == 0x756e6547 || r[1] == 0x68747541, "vendor is GenuineIntel or AuthenticAMD");
	cpuid2(1, 0, c1);
	cpuid2(7, 0, c7);
	cpuid2(0x80000000, 0, r);
	check(r[0] >= 0x80000008, "CPUID max extended leaf %x", r[0]);
	cpuid2(0x80000001, 0, e1);
	check((c1[3] & 0x0780a971) == 0x0780a971,
	      "leaf 1 EDX has FPU TSC MSR PAE CX8 SEP PGE CMOV MMX FXSR SSE SSE2: %x", c1[3]);
	check(e1[3] & (1u << 29), "long mode advertised");
	check(e1[3] & (1u << 11), "SYSCALL advertised in 64-bit mode");
	/* leaf 0x80000008: physical and linear address sizes */
	cpuid2(0x80000008, 0, r);
	unsigned pa = r[0] & 0xff, la = r[0] >> 8 & 0xff;
	check(pa >= 36 && pa <= 52 && (la == 48 || la == 57), "address sizes pa %d la %d", pa, la);
	/* subleaf-indexed leaf: 7.1 must not echo 7.0 */
	cpuid2(7, 1, r);
	check(r[1] != c7[1] || c7[1] == 0, "CPUID 7.1 differs from 7.0 (subleaf honoured)");
}

static void test_features(void)
{
	uint64_t x = 0xf0f0000000000f01ull, y;
	if (c1[2] >> 23 & 1) {
		__asm__("popcnt %1, %0" : "=r"(y) : "r"(x));
		check(y == 13, "popcnt %lx = %ld", x, y);
	}
	if (e1[2] >> 5 & 1) {
		__asm__("lzcnt %1, %0" : "=r"(y) : "r"(1ull));
		check(y == 63, "lzcnt(1) = %ld", y);
		__asm__("lzcnt %1, %0" : "=r"(y) : "r"(0ull));
		check(y == 64, "lzcnt(0) = %ld", y);
	}
	if (c7[1] >> 3 & 1) { /* BMI1 */
		__asm__("tzcnt %1, %0" : "=r"(y) : "r"(0x100ull));
		check(y == 8, "tzcnt(0x100) = %ld", y);
		__asm__("andn %2, %1, %0" : "=r"(y) : "r"(0xffull), "r"(0x1234ull));
		check(y == 0x1200, "andn = %lx", y);
		__asm__("blsr %1, %0" : "=r"(y) : "r"(0x1100ull));
		check(y == 0x1000, "blsr = %lx", y);
	}
	if (c7[1] >> 8 & 1) { /* BMI2 */
		__asm__("pext %2, %1, %0" : "=r"(y) : "r"(0x12345678ull), "r"(0xff00ull));
		check(y == 0x56, "pext = %lx", y);
		__asm__("pdep %2, %1, %0" : "=r"(y) : "r"(0x56ull), "r"(0xff00ull));
		check(y == 0x5600, "pdep = %lx", y);
		__asm__("rorx $8, %1, %0" : "=r"(y) : "r"(0x1234ull));
		check(y == 0x3400000000000012ull, "rorx = %lx", y);
	}
	if (c1[2] >> 22 & 1) { /* MOVBE */
		static uint64_t m = 0x0102030405060708ull;
		__asm__("movbe %1, %0" : "=r"(y) : "m"(m));
		check(y == 0x0807060504030201ull, "movbe = %lx", y);
	}
	if (c7[1] >> 19 & 1) { /* ADX */
		uint64_t a = ~0ull;
		__asm__("xor %%eax, %%eax; stc; adcx %1, %0" : "+r"(a) : "r"(0ull) : "rax", "cc");
		check(a == 0, "adcx with CF=1 wraps (%lx)", a);
	}
	if (c1[2] >> 13 & 1) {
		static uint64_t m[2] __attribute__((aligned(16))) = { 1, 2 };
		uint64_t lo = 1, hi = 2;
		uint8_t ok;
		__asm__ volatile("lock cmpxchg16b %1; sete %0"
				 : "=q"(ok), "+m"(m), "+a"(lo), "+d"(hi)
				 : "b"(3ull), "c"(4ull));
		check(ok && m[0] == 3 && m[1] == 4, "cmpxchg16b swapped");
	}
}

/* instructions whose CPUID bit, when clear, makes them #UD */
__asm__(".text\n"
	"ud_popcnt: popcnt %rax, %rax\n ret\n"
	"ud_movbe: movbe (%rsp), %rax\n ret\n"
	"ud_rdrand: rdrand %rax\n ret\n"
	"ud_rdseed: rdseed %rax\n ret\n"
	"ud_adcx: adcx %rax, %rax\n ret\n"
	"ud_andn: andn %rax, %rax, %rax\n ret\n"
	"ud_pdep: pdep %rax, %rax, %rax\n ret\n"
	"ud_rdpid: rdpid %rax\n ret\n"
	"ud_rdtscp: rdtscp\n ret\n"
	".section .rodata\n"
	"ud_table: .quad ud_popcnt, ud_movbe, ud_rdrand, ud_rdseed, ud_adcx, ud_andn, ud_pdep\n"
	" .quad ud_rdpid, ud_rdtscp\n"
	".text\n");
extern void (*const ud_table[9])(void);

static void test_not_advertised(void)
{
	static const char *const names[9] = { "popcnt", "movbe", "rdrand", "rdseed", "adcx",
					      "andn",   "pdep",  "rdpid",  "rdtscp" };
	const int adv[9] = { c1[2] >> 23 & 1, c1[2] >> 22 & 1, c1[2] >> 30 & 1,
			     c7[1] >> 18 & 1, c7[1] >> 19 & 1, c7[1] >> 3 & 1,
			     c7[1] >> 8 & 1,  c7[2] >> 22 & 1, e1[3] >> 27 & 1 };
	int n = 0;
	for (int i = 0; i < 9; i++) {
		if (adv[i])
			continue;
		n++;
		long v = trap_run(ud_table[i]);
		/* QEMU 7.2 TCG -cpu max decodes RDSEED without advertising it */
		check_sdm(v == 6, "%s not advertised -> #UD (vec %d)", names[i], (int)v);
	}
	guest_printf("g64_misc: %d unadvertised instructions checked for #UD\n", n);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void test_tsc(void)
{
	uint64_t prev = rdtsc(), bad = 0;
	for (int i = 0; i < 200; i++) {
		uint64_t t = rdtsc();
		if (t < prev)
			bad++;
		prev = t;
	}
	check(bad == 0, "RDTSC went backwards %ld times", bad);
	uint64_t t0 = rdtsc();
	for (volatile int i = 0; i < 10000; i++)
		;
	check(rdtsc() > t0, "RDTSC advances across a loop");
	if (e1[3] >> 27 & 1) {
		wrmsr(0xc0000103, 0x1234);
		uint32_t lo, hi, aux;
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		check(aux == 0x1234, "rdtscp: ECX = TSC_AUX (%x)", aux);
		check(((uint64_t)hi << 32 | lo) >= t0, "rdtscp TSC not behind rdtsc");
		check(rdmsr(0xc0000103) == 0x1234, "TSC_AUX reads back");
		if (c7[2] >> 22 & 1) {
			uint64_t p;
			__asm__ volatile("rdpid %0" : "=r"(p));
			check(p == 0x1234, "rdpid = TSC_AUX (%lx)", p);
		}
	}
	/* IA32_TIME_STAMP_COUNTER (0x10) is writable and then counts from there */
	wrmsr(0x10, 1ull << 40);
	uint64_t t = rdtsc();
	/* QEMU 7.2 TCG ignores writes to IA32_TIME_STAMP_COUNTER */
	check_sdm(t >= 1ull << 40 && t < (1ull << 40) + (1ull << 32), "TSC after wrmsr 0x10: %lx",
		  t);
	/* CR4.TSD: RDTSC at CPL 3 faults */
	long v = trap_run_user(u_rdtsc, SEL_UCODE64, SEL_UDATA);
	check(v == VEC_USER_EXIT, "rdtsc at CPL3 with TSD=0: vec %d", (int)v);
	write_cr4(read_cr4() | 4);
	v = trap_run_user(u_rdtsc, SEL_UCODE64, SEL_UDATA);
	check(v == 13 && trap.err == 0, "rdtsc at CPL3 with CR4.TSD=1: vec %d", (int)v);
	write_cr4(read_cr4() & ~4ul);
}

static void test_rand(void)
{
	if (c1[2] >> 30 & 1) {
		uint64_t v[4];
		int cf = 1;
		for (int i = 0; i < 4; i++) {
			uint8_t c;
			__asm__ volatile("rdrand %0; setc %1" : "=r"(v[i]), "=q"(c));
			cf &= c;
		}
		check(cf, "rdrand CF=1");
		check(v[0] != v[1] || v[1] != v[2] || v[2] != v[3], "rdrand values vary");
	}
	if (c7[1] >> 18 & 1) {
		uint64_t a;
		uint8_t c;
		__asm__ volatile("rdseed %0; setc %1" : "=r"(a), "=q"(c));
		check(c, "rdseed CF=1");
	}
}

static void test_xsave_ctl(void)
{
	if (!(c1[2] >> 26 & 1)) {
		guest_puts("g64_misc: XSAVE not advertised, XGETBV skipped\n");
		return;
	}
	ureg cr4 = read_cr4();
	write_cr4(cr4 & ~(1ul << 18));
	long v = trap_run(f_xgetbv0);
	check(v == 6, "xgetbv with CR4.OSXSAVE=0 -> #UD (vec %d)", (int)v);
	uint32_t r[4];
	cpuid2(1, 0, r);
	check(!(r[2] >> 27 & 1), "CPUID.1:ECX.OSXSAVE clear");
	write_cr4(cr4 | (1ul << 18));
	cpuid2(1, 0, r);
	check(r[2] >> 27 & 1, "CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE");
	v = trap_run(f_xgetbv0);
	check(v == -1 && (xv & 1), "xgetbv(0) = %lx has x87", xv);
	cpuid2(0xd, 0, r);
	uint64_t supported = (uint64_t)r[3] << 32 | r[0];
	check((supported & 3) == 3, "CPUID.D.0 XCR0 mask %lx has x87|SSE", supported);
	xv = 3;
	v = trap_run(f_xsetbv0);
	check(v == -1, "xsetbv XCR0=3 (vec %d)", (int)v);
	trap_run(f_xgetbv0);
	check(xv == 3, "XCR0 reads back 3 (%lx)", xv);
	xv = 2;
	v = trap_run(f_xsetbv0);
	check(v == 13 && trap.err == 0, "xsetbv without x87 bit -> #GP(0) (vec %d)", (int)v);
	if (supported & 4) {
		xv = 5;
		v = trap_run(f_xsetbv0);
		check(v == 13, "xsetbv AVX without SSE -> #GP (vec %d)", (int)v);
		xv = 7;
		v = trap_run(f_xsetbv0);
		check(v == -1, "xsetbv x87|SSE|AVX (vec %d)", (int)v);
	}
	xv = ~supported & ~(1ull << 63) & 0xffffffffull;
	if (xv) {
		xv |= 3;
		v = trap_run(f_xsetbv0);
		check(v == 13, "xsetbv with unsupported bits -> #GP (vec %d)", (int)v);
	}
	xv = 3;
	trap_run(f_xsetbv0);
}

static void test_segbase(void)
{
	static volatile uint64_t fsbuf[2] = { 0x1111, 0x2222 }, gsbuf[2] = { 0x3333, 0x4444 };
	uint64_t a;
	wrmsr(0xc0000100, (ureg)fsbuf);
	wrmsr(0xc0000101, (ureg)gsbuf);
	__asm__ volatile("mov %%fs:8, %0" : "=r"(a));
	check(a == 0x2222, "FS base via MSR: fs:8 = %lx", a);
	__asm__ volatile("mov %%gs:0, %0" : "=r"(a));
	check(a == 0x3333, "GS base via MSR: gs:0 = %lx", a);
	/* loading a selector into FS clears the base to the descriptor's (0) */
	__asm__ volatile("mov %w0, %%fs" ::"r"(SEL_DATA));
	check(rdmsr(0xc0000100) == 0, "mov fs zeroes FS.base (%lx)", rdmsr(0xc0000100));
	/* SWAPGS */
	wrmsr(0xc0000102, (ureg)fsbuf);
	__asm__ volatile("swapgs");
	__asm__ volatile("mov %%gs:0, %0" : "=r"(a));
	check(a == 0x1111 && rdmsr(0xc0000102) == (ureg)gsbuf, "swapgs exchanged the bases");
	__asm__ volatile("swapgs");
	check(rdmsr(0xc0000101) == (ureg)gsbuf, "swapgs twice restores");
	long v = trap_run_user(u_swapgs, SEL_UCODE64, SEL_UDATA);
	check(v == 13 && trap.err == 0, "swapgs at CPL3 -> #GP(0) (vec %d)", (int)v);
	xmsr = 0xc0000101;
	xv = 0xffff800000000000ull;
	v = trap_run(f_wrmsr);
	check(v == -1 && rdmsr(0xc0000101) == xv, "canonical high GS base accepted (vec %d)",
	      (int)v);
	wrmsr(0xc0000101, 0);
	/* RD/WRFSBASE */
	if (c7[1] & 1) {
		xv = (ureg)gsbuf;
		ureg cr4 = read_cr4();
		write_cr4(cr4 & ~(1ul << 16));
		v = trap_run(f_wrfsbase);
		check(v == 6, "wrfsbase with CR4.FSGSBASE=0 -> #UD (vec %d)", (int)v);
		write_cr4(cr4 | (1ul << 16));
		v = trap_run(f_wrfsbase);
		__asm__ volatile("mov %%fs:8, %0" : "=r"(a));
		check(v == -1 && a == 0x4444 && rdmsr(0xc0000100) == (ureg)gsbuf,
		      "wrfsbase sets FS.base (fs:8 = %lx)", a);
		uint64_t b;
		__asm__ volatile("rdfsbase %0" : "=r"(b));
		check(b == (ureg)gsbuf, "rdfsbase = %lx", b);
		__asm__ volatile("wrgsbase %1; rdgsbase %0" : "=r"(b) : "r"((ureg)fsbuf));
		check(b == (ureg)fsbuf && rdmsr(0xc0000101) == (ureg)fsbuf, "wr/rdgsbase");
		xv = 0x0000900000000000ull;
		v = trap_run(f_wrfsbase);
		/* QEMU 7.2 TCG does not check canonicality here */
		check_sdm(v == 13 && trap.err == 0, "wrfsbase non-canonical -> #GP(0) (vec %d)",
			  (int)v);
		write_cr4(cr4);
	}
}

static void test_cr8(void)
{
	ureg c;
	__asm__ volatile("mov %0, %%cr8" ::"r"(5ul));
	__asm__ volatile("mov %%cr8, %0" : "=r"(c));
	check(c == 5, "CR8 reads back 5 (%lx)", c);
	xv = 0x10;
	long v = trap_run(f_wrcr8);
	/* QEMU 7.2 TCG ignores CR8 reserved bits */
	check_sdm(v == 13 && trap.err == 0, "CR8 reserved bit 4 -> #GP(0) (vec %d)", (int)v);
	__asm__ volatile("mov %0, %%cr8" ::"r"(0ul));
}

int guest_main(void)
{
	trap_init();
	test_cpuid();
	test_features();
	test_not_advertised();
	test_tsc();
	test_rand();
	test_xsave_ctl();
	test_segbase();
	test_cr8();
	return report("g64_misc");
}
