/*
 * g64_fp_exceptions — x87/SSE state as the OS sees it (SDM Vol. 1 §8.5,
 * §11.5, Vol. 3 §13): #NM with CR0.TS (x87 and SSE) and CR0.EM (#NM for
 * x87, #UD for SSE), #MF on the next waiting x87 instruction with CR0.NE
 * and an unmasked exception, #XM for an unmasked SSE exception with
 * CR4.OSXMMEXCPT (#UD without it), FXSAVE/FXRSTOR and XSAVE/XRSTOR round
 * trips with the exact image layout.
 */
#include "trap.h"

__asm__(".text\n"
	".globl t_fld1, t_fld1_ip\n"
	"t_fld1: nop\nt_fld1_ip: fld1\n fstp %st(0)\n ret\n"
	".globl t_addps, t_addps_ip\n"
	"t_addps: nop\nt_addps_ip: addps %xmm1, %xmm0\n ret\n"
	".globl t_fwait, t_fdiv_ip, t_fwait_ip\n"
	"t_fwait: fld1\n fldz\n"
	"t_fdiv_ip: .byte 0xde, 0xf9 /* fdivp st(1), st(0): 1/0 */\n nop\n"
	"t_fwait_ip: fwait\n ret\n"
	".globl t_divss, t_divss_ip\n"
	"t_divss: movss one(%rip), %xmm0\n xorps %xmm1, %xmm1\n"
	"t_divss_ip: divss %xmm1, %xmm0\n movss %xmm0, res(%rip)\n ret\n");
void t_fld1(void), t_addps(void), t_fwait(void), t_divss(void);
extern char t_fld1_ip[], t_addps_ip[], t_fdiv_ip[], t_fwait_ip[], t_divss_ip[];

const float one = 1.0f;
volatile float res;
static uint8_t fx[512] __attribute__((aligned(16)));
static uint8_t fx2[512] __attribute__((aligned(16)));
static uint8_t xs[4096] __attribute__((aligned(64)));

static int same(const uint8_t *a, const uint8_t *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void mxcsr_set(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" ::"m"(v));
}
static uint32_t mxcsr_get(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}
static uint16_t fsw_get(void)
{
	uint16_t v;
	__asm__ volatile("fnstsw %0" : "=m"(v));
	return v;
}

static void test_nm(void)
{
	ureg cr0 = read_cr0();
	write_cr0(cr0 | 8); /* TS */
	long v = trap_run(t_fld1);
	check(v == 7 && trap.ip == (ureg)t_fld1_ip, "x87 with CR0.TS -> #NM at the insn (vec %d)",
	      (int)v);
	v = trap_run(t_addps);
	check(v == 7 && trap.ip == (ureg)t_addps_ip, "SSE with CR0.TS -> #NM (vec %d)", (int)v);
	__asm__ volatile("clts");
	check(!(read_cr0() & 8), "clts clears CR0.TS");
	v = trap_run(t_fld1);
	check(v == -1, "x87 after clts (vec %d)", (int)v);
	write_cr0((cr0 | 4) & ~8ul); /* EM */
	v = trap_run(t_fld1);
	check(v == 7, "x87 with CR0.EM -> #NM (vec %d)", (int)v);
	v = trap_run(t_addps);
	check(v == 6, "SSE with CR0.EM -> #UD (vec %d)", (int)v);
	write_cr0(cr0);
}

static void test_mf(void)
{
	uint16_t cw = 0x037f & ~0x4; /* unmask ZE */
	__asm__ volatile("fninit; fldcw %0" ::"m"(cw));
	long v = trap_run(t_fwait);
	uint16_t sw = fsw_get();
	/* SDM §8.6: the exception is reported on the next waiting x87 instruction */
	check(v == 16 && trap.ip == (ureg)t_fwait_ip, "#MF at fwait: vec %d rip %lx (want %lx)",
	      (int)v, trap.ip, (ureg)t_fwait_ip);
	check((sw & 0x84) == 0x84, "FSW has ZE and ES (%x)", sw);
	uint8_t env[512] __attribute__((aligned(16)));
	__asm__ volatile("fxsave64 %0" : "=m"(env));
	uint64_t fip = *(uint64_t *)(env + 8);
	uint16_t fop = *(uint16_t *)(env + 6);
	/* QEMU 7.2 TCG keeps no x87 FIP/FOP */
	check_sdm(fip == (ureg)t_fdiv_ip, "FPU IP = the faulting fdiv (%lx want %lx)", fip,
		  (ureg)t_fdiv_ip);
	check_sdm(fop == 0x6f9, "FOP = (de & 7) << 8 | f9 (%x)", fop);
	__asm__ volatile("fnclex");
	check(!(fsw_get() & 0x80), "fnclex cleared ES");
	/* CR0.NE=0 would use FERR#/IRQ13 instead; not tested. */
	__asm__ volatile("fninit");
}

static void test_xm(void)
{
	mxcsr_set(0x1f80 & ~0x200); /* unmask ZE */
	res = 7.0f;
	long v = trap_run(t_divss);
	uint32_t m = mxcsr_get();
	/* QEMU 7.2 TCG never raises #XM (unmasked SSE exceptions only set flags) */
	check_sdm(v == 19 && trap.ip == (ureg)t_divss_ip, "#XM at divss: vec %d", (int)v);
	check(m & 4, "MXCSR.ZE set (%x)", m);
	float r = res;
	check_sdm(r == 7.0f, "faulting divss did not complete");
	mxcsr_set(0x1f80);
	ureg cr4 = read_cr4();
	write_cr4(cr4 & ~0x400ul);
	mxcsr_set(0x1f80 & ~0x200);
	v = trap_run(t_divss);
	check_sdm(v == 6, "unmasked SSE exception with OSXMMEXCPT=0 -> #UD (vec %d)", (int)v);
	write_cr4(cr4);
	mxcsr_set(0x1f80);
	v = trap_run(t_divss);
	m = mxcsr_get();
	r = res;
	check(v == -1 && (m & 4) && r == __builtin_inff(), "masked: inf and ZE (vec %d mxcsr %x)",
	      (int)v, m);
}

static volatile uint32_t badmx;
static void f_ldmxcsr(void)
{
	__asm__ volatile("ldmxcsr %0" ::"m"(badmx));
}

static void test_fxsave(void)
{
	static const double vals[3] = { 1.5, -2.25, 1e300 };
	static const uint64_t xmm[4] = { 0x1111222233334444ull, 0x5555666677778888ull,
					 0x99990000aaaabbbbull, 0xccccddddeeeeffffull };
	__asm__ volatile("fninit");
	uint16_t cw = 0x027f;
	__asm__ volatile("fldcw %0" ::"m"(cw));
	__asm__ volatile("fldl %0; fldl %1; fldl %2" ::"m"(vals[0]), "m"(vals[1]), "m"(vals[2]));
	__asm__ volatile("movdqu %0, %%xmm3; movdqu %1, %%xmm15" ::"m"(xmm[0]), "m"(xmm[2]));
	mxcsr_set(0x1f80 | 0x6000); /* RC = toward zero */
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	check(*(uint16_t *)fx == 0x027f, "FXSAVE FCW %x", *(uint16_t *)fx);
	uint16_t fsw = *(uint16_t *)(fx + 2);
	check(((fsw >> 11) & 7) == 5, "FXSAVE FSW.TOP = 5 after 3 pushes (%x)", fsw);
	check(fx[4] == 0xe0, "FXSAVE abridged FTW %x (st0-2 valid = regs 5,6,7)", fx[4]);
	check(*(uint32_t *)(fx + 24) == 0x7f80, "FXSAVE MXCSR %x", *(uint32_t *)(fx + 24));
	uint32_t mask = *(uint32_t *)(fx + 28);
	check(mask != 0 && (mask & 0xffbf) == 0xffbf, "MXCSR_MASK %x", mask);
	/* ST0 = 1e300 as 80-bit at offset 32 */
	long double st0 = 0;
	for (int i = 0; i < 10; i++)
		((volatile uint8_t *)&st0)[i] = fx[32 + i];
	check(st0 == (long double)1e300, "FXSAVE ST0");
	check(*(uint64_t *)(fx + 160 + 3 * 16) == xmm[0] &&
		      *(uint64_t *)(fx + 160 + 3 * 16 + 8) == xmm[1],
	      "FXSAVE XMM3");
	check(*(uint64_t *)(fx + 160 + 15 * 16) == xmm[2], "FXSAVE XMM15");
	/* clobber, restore, save again: identical images (ignoring reserved bytes) */
	__asm__ volatile("fninit; pxor %%xmm3, %%xmm3; pxor %%xmm15, %%xmm15" ::: "xmm3", "xmm15");
	mxcsr_set(0x1f80);
	__asm__ volatile("fxrstor64 %0" ::"m"(fx));
	__asm__ volatile("fxsave64 %0" : "=m"(fx2));
	check(same(fx, fx2, 416), "FXRSTOR then FXSAVE gives the same image");
	check(mxcsr_get() == 0x7f80, "MXCSR restored (%x)", mxcsr_get());
	double top;
	__asm__ volatile("fstpl %0" : "=m"(top));
	check(top == 1e300, "x87 stack restored");
	__asm__ volatile("fninit");
	/* FXRSTOR with reserved MXCSR bits -> #GP(0); LDMXCSR too */
	badmx = 0x10000 | 0x1f80;
	long v = trap_run(f_ldmxcsr);
	/* QEMU 7.2 TCG accepts reserved MXCSR bits */
	check_sdm(v == 13 && trap.err == 0, "ldmxcsr reserved bit -> #GP(0) (vec %d)", (int)v);
	mxcsr_set(0x1f80);
}

static void f_xrstors(void)
{
	__asm__ volatile("xrstors64 %0" ::"m"(xs), "a"(3), "d"(0));
}
static void f_xsaves_user(void)
{
	__asm__ volatile("xsaves64 %0" : "+m"(xs) : "a"(3), "d"(0));
}

static void test_xsave(void)
{
	uint32_t r[4];
	cpuid2(1, 0, r);
	if (!(r[2] >> 26 & 1)) {
		guest_puts("g64_fp_exceptions: no XSAVE, skipped\n");
		return;
	}
	write_cr4(read_cr4() | (1ul << 18));
	__asm__ volatile("xsetbv" ::"a"(3), "d"(0), "c"(0));
	cpuid2(0xd, 0, r);
	check(r[1] >= 576 && r[1] <= 4096, "CPUID.D.0 EBX (size for XCR0) %d", r[1]);
	static const uint64_t x[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	__asm__ volatile("fninit; movdqu %0, %%xmm5" ::"m"(x[0]));
	mxcsr_set(0x1f80 | 0x2000);
	for (unsigned i = 0; i < sizeof(xs); i++)
		((volatile uint8_t *)xs)[i] = 0;
	__asm__ volatile("xsave64 %0" : "+m"(xs) : "a"(3), "d"(0));
	uint64_t bv = *(uint64_t *)(xs + 512);
	check(bv & 2, "XSTATE_BV has SSE after changing XMM5 (%lx)", bv);
	check(*(uint64_t *)(xs + 160 + 5 * 16) == x[0], "XSAVE XMM5 at offset 240");
	check(*(uint32_t *)(xs + 24) == 0x3f80, "XSAVE MXCSR %x", *(uint32_t *)(xs + 24));
	__asm__ volatile("pxor %%xmm5, %%xmm5" ::: "xmm5");
	mxcsr_set(0x1f80);
	__asm__ volatile("xrstor64 %0" ::"m"(xs), "a"(3), "d"(0));
	uint64_t back[2];
	__asm__ volatile("movdqu %%xmm5, %0" : "=m"(back));
	check(back[0] == x[0] && back[1] == x[1] && mxcsr_get() == 0x3f80, "XRSTOR restored");
	/* XSTATE_BV bit clear: XRSTOR puts that component in its init state */
	*(uint64_t *)(xs + 512) = 1;
	__asm__ volatile("xrstor64 %0" ::"m"(xs), "a"(3), "d"(0));
	__asm__ volatile("movdqu %%xmm5, %0" : "=m"(back));
	check(back[0] == 0 && back[1] == 0, "XRSTOR with XSTATE_BV.SSE=0 zeroes XMM5");
	mxcsr_set(0x1f80);

	/* AVX state (component 2) at CPUID.(D,2).EBX, when advertised */
	cpuid2(1, 0, r);
	int avx = r[2] >> 28 & 1;
	cpuid2(0xd, 0, r);
	uint64_t xcr0_ok = (uint64_t)r[3] << 32 | r[0];
	if (avx && (xcr0_ok & 4)) {
		__asm__ volatile("xsetbv" ::"a"(7), "d"(0), "c"(0));
		cpuid2(0xd, 2, r);
		uint32_t off = r[1], size = r[0];
		check(size == 256 && off >= 576, "AVX component: size %d offset %d", size, off);
		static const uint64_t y[4] = { 1, 2, 0x3333333333333333ull, 0x4444444444444444ull };
		__asm__ volatile("vmovdqu %0, %%ymm7" ::"m"(y));
		for (unsigned i = 0; i < sizeof(xs); i++)
			((volatile uint8_t *)xs)[i] = 0;
		__asm__ volatile("xsave64 %0" : "+m"(xs) : "a"(7), "d"(0));
		check(*(uint64_t *)(xs + 512) & 4, "XSTATE_BV.AVX set (%lx)",
		      *(uint64_t *)(xs + 512));
		check(*(uint64_t *)(xs + off + 7 * 16) == y[2] &&
			      *(uint64_t *)(xs + off + 7 * 16 + 8) == y[3],
		      "YMM7 upper half saved at offset %d", off + 7 * 16);
		check(*(uint64_t *)(xs + 160 + 7 * 16) == y[0], "YMM7 lower half in the XMM area");
		__asm__ volatile("vpxor %%ymm7, %%ymm7, %%ymm7" ::: "xmm7");
		__asm__ volatile("xrstor64 %0" ::"m"(xs), "a"(7), "d"(0));
		uint64_t back[4];
		__asm__ volatile("vmovdqu %%ymm7, %0" : "=m"(back));
		check(back[0] == y[0] && back[2] == y[2] && back[3] == y[3],
		      "XRSTOR restored YMM7");
		/* VZEROUPPER puts AVX in its init state: XSAVE then leaves it out
		 * of XSTATE_BV (allowed, not required) and the image bytes alone */
		__asm__ volatile("vzeroupper");
		__asm__ volatile("vmovdqu %%ymm7, %0" : "=m"(back));
		check(back[2] == 0 && back[3] == 0 && back[0] == y[0],
		      "vzeroupper cleared YMM7[255:128]");
		__asm__ volatile("xsetbv" ::"a"(3), "d"(0), "c"(0));
	} else {
		guest_puts("g64_fp_exceptions: no AVX, YMM state skipped\n");
	}
	/* XSAVEC: compacted format, XCOMP_BV bit 63 (SDM §13.10) */
	cpuid2(0xd, 1, r);
	if (r[0] >> 1 & 1) {
		for (unsigned i = 0; i < sizeof(xs); i++)
			((volatile uint8_t *)xs)[i] = 0; /* header bytes 16-63 must stay 0 */
		__asm__ volatile("xsavec64 %0" : "+m"(xs) : "a"(3), "d"(0));
		uint64_t comp = *(uint64_t *)(xs + 520);
		check(comp == (1ull << 63 | 3), "XSAVEC: XCOMP_BV = %lx", comp);
		check(*(uint32_t *)(xs + 24) == mxcsr_get(), "XSAVEC MXCSR");
		__asm__ volatile("xrstor64 %0" ::"m"(xs), "a"(3), "d"(0));
		check(mxcsr_get() == 0x1f80, "XRSTOR of a compacted image");
	}
	/* XSAVES/XRSTORS: CPL 0 only, always compacted (SDM §13.11, §13.12) */
	if (r[0] >> 3 & 1) {
		for (unsigned i = 0; i < sizeof(xs); i++)
			((volatile uint8_t *)xs)[i] = 0;
		static const uint64_t x[2] = { 0x1111111122222222ull, 0x3333333344444444ull };
		__asm__ volatile("movdqu %0, %%xmm6" ::"m"(x[0]));
		__asm__ volatile("xsaves64 %0" : "+m"(xs) : "a"(3), "d"(0));
		uint64_t comp = *(uint64_t *)(xs + 520);
		check(comp == (1ull << 63 | 3), "XSAVES: XCOMP_BV = %lx", comp);
		check(*(uint64_t *)(xs + 160 + 6 * 16) == x[0], "XSAVES XMM6");
		__asm__ volatile("pxor %%xmm6, %%xmm6" ::: "xmm6");
		__asm__ volatile("xrstors64 %0" ::"m"(xs), "a"(3), "d"(0));
		uint64_t back[2];
		__asm__ volatile("movdqu %%xmm6, %0" : "=m"(back));
		check(back[0] == x[0] && back[1] == x[1], "XRSTORS restored XMM6");
		*(uint64_t *)(xs + 520) = 0; /* standard format: XRSTORS wants compacted */
		long v = trap_run(f_xrstors);
		check(v == 13 && trap.err == 0,
		      "XRSTORS of a non-compacted image -> #GP(0) (vec %d)", (int)v);
		v = trap_run_user(f_xsaves_user, SEL_UCODE64, SEL_UDATA);
		check(v == 13 && trap.err == 0, "XSAVES at CPL3 -> #GP(0) (vec %d)", (int)v);
	}
}

int guest_main(void)
{
	trap_init();
	test_nm();
	test_mf();
	test_xm();
	test_fxsave();
	test_xsave();
	return report("g64_fp_exceptions");
}
