/*
 * g32_fp_env — the x87 environment and state images as 32-bit protected
 * mode code sees them (SDM Vol. 1 §8.1.10, Figures 8-9/8-10, §10.5.1):
 * FNSTENV/FLDENV in the 28-byte and (66 prefix) 14-byte formats with the
 * full 2-bit tag word (valid/zero/special/empty), FNSTENV masking all
 * exceptions, FNSAVE/FRSTOR (108 bytes, FNINIT after the save), FXSAVE in
 * the 32-bit format with the abridged tag byte, FPU instruction/data
 * pointers and opcode, FXAM on an empty register, and #MF with CR0.NE.
 */
#include "trap.h"

__asm__(".text\n"
	".globl t_mf, t_mf_div, t_mf_wait\n"
	"t_mf: fld1\n fldz\n"
	"t_mf_div: fdivrp %st, %st(1)\n" /* st1 = st1 / st0 = 1 / 0 */
	" nop\nt_mf_wait: fwait\n ret\n"
	".globl t_fldm, t_fldm_ip\n"
	"t_fldm: nop\nt_fldm_ip: fldl fpmem\n ret\n");
void t_mf(void), t_fldm(void);
extern char t_mf_div[], t_mf_wait[], t_fldm_ip[];
double fpmem = 2.5;

static uint8_t env[28], env16[14], save[108];
static uint8_t fx[512] __attribute__((aligned(16)));

static uint16_t w(const uint8_t *p, int off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}
static uint32_t d(const uint8_t *p, int off)
{
	return (uint32_t)w(p, off) | (uint32_t)w(p, off + 2) << 16;
}

static void push4(void)
{
	static const double inf = __builtin_inf();
	/* reg7 = 1.0 (valid), reg6 = +0 (zero), reg5 = pi (valid), reg4 = inf
	 * (special); TOP = 4 */
	__asm__ volatile("fninit; fld1; fldz; fldpi; fldl %0" ::"m"(inf));
}

int guest_main(void)
{
	trap_init();

	/* FNSTENV, 32-bit format */
	push4();
	uint16_t cw = 0x0372; /* PE, UE, OE unmasked... */
	__asm__ volatile("fldcw %0" ::"m"(cw));
	__asm__ volatile("fnstenv %0" : "=m"(env));
	check(w(env, 0) == 0x0372, "FNSTENV FCW %x", w(env, 0));
	check(((w(env, 4) >> 11) & 7) == 4, "FNSTENV FSW.TOP = 4 (%x)", w(env, 4));
	check(w(env, 8) == 0x12ff, "FNSTENV full tag word %x (want 12ff)", w(env, 8));
	uint16_t cw2;
	__asm__ volatile("fnstcw %0" : "=m"(cw2));
	/* SDM FSTENV: "then masks all floating-point exceptions"; QEMU 7.2 TCG
	 * leaves FCW alone */
	check_sdm(cw2 == 0x037f, "FNSTENV masked all exceptions (FCW now %x)", cw2);
	/* 16-bit format: FCW, FSW, FTW at 0, 2, 4 */
	__asm__ volatile(".byte 0x66; fnstenv %0" : "=m"(env16));
	check(w(env16, 4) == 0x12ff && ((w(env16, 2) >> 11) & 7) == 4,
	      "16-bit FNSTENV: fcw %x fsw %x ftw %x", w(env16, 0), w(env16, 2), w(env16, 4));

	/* FLDENV with all tags empty: registers read as empty */
	env[8] = 0xff;
	env[9] = 0xff;
	__asm__ volatile("fldenv %0" ::"m"(env));
	uint16_t sw;
	__asm__ volatile("fxam; fnstsw %0" : "=m"(sw));
	check((sw & 0x4500) == 0x4100, "FXAM on an empty ST0 after FLDENV: C3=1 C2=0 C0=1 (%x)",
	      sw);
	__asm__ volatile("fnstenv %0" : "=m"(env));
	check(w(env, 8) == 0xffff, "tag word reads back all empty (%x)", w(env, 8));

	/* FNSAVE / FRSTOR */
	push4();
	__asm__ volatile("fnsave %0" : "=m"(save));
	check(w(save, 8) == 0x12ff && ((w(save, 4) >> 11) & 7) == 4, "FNSAVE env: ftw %x fsw %x",
	      w(save, 8), w(save, 4));
	/* ST0 = +inf: mantissa 8000000000000000, exponent 7fff */
	check(d(save, 28) == 0 && d(save, 32) == 0x80000000 && w(save, 36) == 0x7fff,
	      "FNSAVE ST0 = +inf");
	/* ST3 = 1.0: exponent 3fff */
	check(w(save, 28 + 3 * 10 + 8) == 0x3fff, "FNSAVE ST3 = 1.0");
	uint16_t sw2, cw3;
	__asm__ volatile("fnstsw %0; fnstcw %1" : "=m"(sw2), "=m"(cw3));
	check(sw2 == 0 && cw3 == 0x037f, "FNSAVE reinitialised the FPU (fsw %x fcw %x)", sw2, cw3);
	__asm__ volatile("frstor %0" ::"m"(save));
	double a, b, c, e;
	__asm__ volatile("fstpl %0; fstpl %1; fstpl %2; fstpl %3"
			 : "=m"(a), "=m"(b), "=m"(c), "=m"(e));
	check(a == __builtin_inf() && c == 0.0 && e == 1.0 && b > 3.14159 && b < 3.1416,
	      "FRSTOR restored the stack");

	/* FXSAVE, 32-bit format: abridged tag byte, FIP/FCS, FDP/FDS */
	push4();
	__asm__ volatile("fxsave %0" : "=m"(fx));
	check(fx[4] == 0xf0, "FXSAVE abridged tag %x (regs 4-7 non-empty)", fx[4]);
	__asm__ volatile("fninit");
	trap_run(t_fldm);
	__asm__ volatile("fxsave %0" : "=m"(fx));
	/* QEMU 7.2 TCG does not keep the last x87 instruction/data pointers */
	check_sdm(d(fx, 8) == (ureg)t_fldm_ip && w(fx, 12) == SEL_CODE32,
		  "FXSAVE FIP %x FCS %x (want %x 8)", d(fx, 8), w(fx, 12),
		  (unsigned)(ureg)t_fldm_ip);
	check_sdm(d(fx, 16) == (ureg)&fpmem && w(fx, 20) == SEL_DATA, "FXSAVE FDP %x FDS %x",
		  d(fx, 16), w(fx, 20));
	check_sdm(w(fx, 6) == 0x505, "FXSAVE FOP %x (dd 05 -> 0x505)", w(fx, 6));
	__asm__ volatile("fnstenv %0" : "=m"(env));
	check_sdm(d(env, 12) == (ureg)t_fldm_ip && d(env, 20) == (ureg)&fpmem &&
			  (d(env, 16) & 0xffff) == SEL_CODE32 && (d(env, 16) >> 16) == 0x505,
		  "FNSTENV FIP %x CS/FOP %x FDP %x", d(env, 12), d(env, 16), d(env, 20));
	__asm__ volatile("fninit");

	/* #MF: unmasked zero divide, reported by the next waiting instruction */
	cw = 0x037f & ~0x4;
	__asm__ volatile("fldcw %0" ::"m"(cw));
	long v = trap_run(t_mf);
	__asm__ volatile("fnstsw %0" : "=m"(sw));
	check(v == 16 && trap.ip == (ureg)t_mf_wait, "#MF at fwait: vec %d eip %x (want %x)",
	      (int)v, (unsigned)trap.ip, (unsigned)(ureg)t_mf_wait);
	check((sw & 0x84) == 0x84, "FSW ZE|ES (%x)", sw);
	__asm__ volatile("fnclex; fninit");
	return report("g32_fp_env");
}
