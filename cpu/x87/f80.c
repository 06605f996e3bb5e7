/*
 * cpu/x87/f80.c — host implementation of f80.h for x86-64 hosts.
 *
 * Each operation is one inline-asm block that saves the host control word,
 * loads the guest's (IM/DM/ZM forced on, see f80.h), loads the operands with
 * FLD m80 (which copies any bit pattern unchanged), runs the very x87
 * instruction the guest asked for, reads the status word with FNSTSW, clears
 * the host's flags with FNCLEX (so no later waiting instruction of ours takes
 * #MF for an unmasked OE/UE/PE), stores the result with FSTP m80 and restores
 * the host control word. The host x87 stack is empty between blocks (SysV
 * x86-64 ABI) and every block leaves it empty again.
 *
 * FUTURE WORK: a portable soft-float implementation of f80.h for non-x86
 * hosts. The guard below makes such a host fail to build instead of
 * computing wrong results.
 */
#if !defined(__x86_64__)
#error "cpu/x87/f80.c needs an x86-64 host; a portable soft-float f80 is future work"
#endif

#include "cpu/x87/f80.h"

/* IM | DM | ZM: the guest layer handles unmasked responses for these. */
#define HOST_FORCE_MASK 0x0007

#define CLOB "memory", "st", "st(1)", "st(2)"

#define ASM_OP2_KEEP(insn)                                                                     \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[y])\n\tfldt (%[x])\n\t" insn \
			 "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt (%[r])\n\tfstp %%st(0)\n\t"      \
			 "fldcw %[hcw]"                                                        \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                      \
			 : [cw] "m"(hc), [x] "r"(x), [y] "r"(y), [r] "r"(r)                    \
			 : CLOB)

#define ASM_OP2_POP(insn)                                                                      \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[y])\n\tfldt (%[x])\n\t" insn \
			 "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt (%[r])\n\tfldcw %[hcw]"          \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                      \
			 : [cw] "m"(hc), [x] "r"(x), [y] "r"(y), [r] "r"(r)                    \
			 : CLOB)

uint16_t f80_op2(enum f80_op2 op, uint16_t cw, const f80 *x, const f80 *y, f80 *r)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	switch (op) {
	case F80_ADD:
		ASM_OP2_KEEP("fadd %%st(1), %%st");
		break;
	case F80_SUB:
		ASM_OP2_KEEP("fsub %%st(1), %%st");
		break;
	case F80_MUL:
		ASM_OP2_KEEP("fmul %%st(1), %%st");
		break;
	case F80_DIV:
		ASM_OP2_KEEP("fdiv %%st(1), %%st");
		break;
	case F80_SUBR:
		ASM_OP2_KEEP("fsubr %%st(1), %%st");
		break;
	case F80_DIVR:
		ASM_OP2_KEEP("fdivr %%st(1), %%st");
		break;
	case F80_PREM:
		ASM_OP2_KEEP("fprem");
		break;
	case F80_PREM1:
		ASM_OP2_KEEP("fprem1");
		break;
	case F80_SCALE:
		ASM_OP2_KEEP("fscale");
		break;
	case F80_ATAN:
		ASM_OP2_POP("fpatan");
		break;
	case F80_YL2X:
		ASM_OP2_POP("fyl2x");
		break;
	case F80_YL2XP1:
		ASM_OP2_POP("fyl2xp1");
		break;
	}
	return sw;
}

#define ASM_MEM(insn)                                                                         \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\t" insn " (%[m])\n\t" \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt (%[r])\n\tfldcw %[hcw]"             \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                     \
			 : [cw] "m"(hc), [x] "r"(x), [m] "r"(m), [r] "r"(r)                   \
			 : CLOB)
#define MEMCASE(n, insn)       \
	case n:                \
		ASM_MEM(insn); \
		break

uint16_t f80_op_mem(int form, int reg, uint16_t cw, const f80 *x, const void *m, f80 *r)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	switch ((form & 3) << 3 | (reg & 7)) {
		MEMCASE(000, "fadds");
		MEMCASE(001, "fmuls");
		MEMCASE(002, "fcoms");
		MEMCASE(003, "fcoms");
		MEMCASE(004, "fsubs");
		MEMCASE(005, "fsubrs");
		MEMCASE(006, "fdivs");
		MEMCASE(007, "fdivrs");
		MEMCASE(010, "fiaddl");
		MEMCASE(011, "fimull");
		MEMCASE(012, "ficoml");
		MEMCASE(013, "ficoml");
		MEMCASE(014, "fisubl");
		MEMCASE(015, "fisubrl");
		MEMCASE(016, "fidivl");
		MEMCASE(017, "fidivrl");
		MEMCASE(020, "faddl");
		MEMCASE(021, "fmull");
		MEMCASE(022, "fcoml");
		MEMCASE(023, "fcoml");
		MEMCASE(024, "fsubl");
		MEMCASE(025, "fsubrl");
		MEMCASE(026, "fdivl");
		MEMCASE(027, "fdivrl");
		MEMCASE(030, "fiadds");
		MEMCASE(031, "fimuls");
		MEMCASE(032, "ficoms");
		MEMCASE(033, "ficoms");
		MEMCASE(034, "fisubs");
		MEMCASE(035, "fisubrs");
		MEMCASE(036, "fidivs");
		MEMCASE(037, "fidivrs");
	}
	return sw;
}
#undef MEMCASE
#undef ASM_MEM

#define ASM_OP1(insn)                                                                 \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\t" insn       \
			 "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt (%[r])\n\tfldcw %[hcw]" \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                             \
			 : [cw] "m"(hc), [x] "r"(x), [r] "r"(r)                       \
			 : CLOB)

uint16_t f80_op1(enum f80_op1 op, uint16_t cw, const f80 *x, f80 *r)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	switch (op) {
	case F80_SQRT:
		ASM_OP1("fsqrt");
		break;
	case F80_RNDINT:
		ASM_OP1("frndint");
		break;
	case F80_F2XM1:
		ASM_OP1("f2xm1");
		break;
	case F80_SIN:
		ASM_OP1("fsin");
		break;
	case F80_COS:
		ASM_OP1("fcos");
		break;
	}
	return sw;
}

/* The number of results is read from the host's TOP before and after the
 * instruction: FPTAN/FSINCOS do not push when the operand is out of range. */
#define ASM_OP1X2(insn)                                                                          \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\tfnstsw %[sw0]\n\t" insn \
			 "\n\tfnstsw %[sw]\n\tfnclex\n\tmovzwl %[sw0], %%edx\n\t"                \
			 "xorw %[sw], %%dx\n\ttestw $0x3800, %%dx\n\tfstpt (%[r0])\n\tjz 1f\n\t" \
			 "fstpt (%[r1])\n\tmovl $2, %[cnt]\n1:\n\tfldcw %[hcw]"                  \
			 : [sw] "=m"(sw), [sw0] "=m"(sw0), [hcw] "=m"(hcw), [cnt] "+m"(cnt)      \
			 : [cw] "m"(hc), [x] "r"(x), [r0] "r"(r0), [r1] "r"(r1)                  \
			 : CLOB, "rdx", "cc")

uint16_t f80_op1x2(enum f80_op1x2 op, uint16_t cw, const f80 *x, f80 *r0, f80 *r1, int *n)
{
	uint16_t sw = 0, sw0 = 0, hcw, hc = cw | HOST_FORCE_MASK;
	int cnt = 1;

	switch (op) {
	case F80_PTAN:
		ASM_OP1X2("fptan");
		break;
	case F80_SINCOS:
		ASM_OP1X2("fsincos");
		break;
	case F80_XTRACT:
		ASM_OP1X2("fxtract");
		break;
	}
	if (cnt == 1)
		*r1 = *r0;
	*n = cnt;
	return sw;
}

uint16_t f80_cmp(enum f80_cmp op, uint16_t cw, const f80 *x, const f80 *y)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

#define ASM_CMP(insn)                                                                          \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[y])\n\tfldt (%[x])\n\t" insn \
			 "\n\tfnstsw %[sw]\n\tfnclex\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"      \
			 "fldcw %[hcw]"                                                        \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                      \
			 : [cw] "m"(hc), [x] "r"(x), [y] "r"(y)                                \
			 : CLOB)
	if (op == F80_COM)
		ASM_CMP("fcom %%st(1)");
	else
		ASM_CMP("fucom %%st(1)");
#undef ASM_CMP
	return sw;
}

uint16_t f80_tst(uint16_t cw, const f80 *x)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\tftst\n\t"
			 "fnstsw %[sw]\n\tfnclex\n\tfstp %%st(0)\n\tfldcw %[hcw]"
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)
			 : [cw] "m"(hc), [x] "r"(x)
			 : CLOB);
	return sw;
}

uint16_t f80_xam(const f80 *x)
{
	uint16_t sw = 0;

	__asm__ volatile("fldt (%[x])\n\tfxam\n\tfnstsw %[sw]\n\tfstp %%st(0)"
			 : [sw] "=m"(sw)
			 : [x] "r"(x)
			 : CLOB);
	return sw;
}

uint16_t f80_from_float(uint16_t cw, const void *m, int size, f80 *r)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

#define ASM_LD(insn)                                                              \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\t" insn " (%[m])\n\t"    \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt (%[r])\n\tfldcw %[hcw]" \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                         \
			 : [cw] "m"(hc), [m] "r"(m), [r] "r"(r)                   \
			 : CLOB)
	if (size == 4)
		ASM_LD("flds");
	else
		ASM_LD("fldl");
#undef ASM_LD
	return sw;
}

void f80_from_int(int64_t v, f80 *r)
{
	__asm__ volatile("fildll %[v]\n\tfstpt (%[r])" : : [v] "m"(v), [r] "r"(r) : CLOB);
}

void f80_from_bcd(const void *m, f80 *r)
{
	__asm__ volatile("fbld (%[m])\n\tfstpt (%[r])" : : [m] "r"(m), [r] "r"(r) : CLOB);
}

/* Stores use the non-popping FST forms and pop separately: with OM/UM
 * unmasked the host leaves a memory destination unchanged and does not pop
 * (SDM Vol. 1 §8.5.4), and our own stack must stay balanced either way. */
uint16_t f80_to_float(uint16_t cw, const f80 *x, void *m, int size)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

#define ASM_ST(insn)                                                                          \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\t" insn " (%[m])\n\t" \
			 "fnstsw %[sw]\n\tfnclex\n\tfstp %%st(0)\n\tfldcw %[hcw]"             \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                     \
			 : [cw] "m"(hc), [x] "r"(x), [m] "r"(m)                               \
			 : CLOB)
	if (size == 4)
		ASM_ST("fsts");
	else
		ASM_ST("fstl");
#undef ASM_ST
	return sw;
}

/* Integer stores use the popping forms (FIST has no 64-bit non-popping
 * form); IM is forced on for the host, so they always store and pop. */
#define ASM_STP(insn)                                                                         \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\t" insn " (%[m])\n\t" \
			 "fnstsw %[sw]\n\tfnclex\n\tfldcw %[hcw]"                             \
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)                                     \
			 : [cw] "m"(hc), [x] "r"(x), [m] "r"(m)                               \
			 : CLOB)
uint16_t f80_to_int(uint16_t cw, const f80 *x, void *m, int size, int truncate)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	if (truncate) {
		if (size == 2)
			ASM_STP("fisttps");
		else if (size == 4)
			ASM_STP("fisttpl");
		else
			ASM_STP("fisttpll");
	} else {
		if (size == 2)
			ASM_STP("fistps");
		else if (size == 4)
			ASM_STP("fistpl");
		else
			ASM_STP("fistpll");
	}
	return sw;
}
#undef ASM_STP

uint16_t f80_to_bcd(uint16_t cw, const f80 *x, void *m)
{
	uint16_t sw = 0, hcw, hc = cw | HOST_FORCE_MASK;

	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\tfldt (%[x])\n\tfbstp (%[m])\n\t"
			 "fnstsw %[sw]\n\tfnclex\n\tfldcw %[hcw]"
			 : [sw] "=m"(sw), [hcw] "=m"(hcw)
			 : [cw] "m"(hc), [x] "r"(x), [m] "r"(m)
			 : CLOB);
	return sw;
}

void f80_const(uint16_t cw, int which, f80 *r)
{
	uint16_t hcw, hc = cw | 0x003f;

#define ASM_K(insn)                                                                     \
	__asm__ volatile("fnstcw %[hcw]\n\tfldcw %[cw]\n\t" insn "\n\tfstpt (%[r])\n\t" \
			 "fldcw %[hcw]"                                                 \
			 : [hcw] "=m"(hcw)                                              \
			 : [cw] "m"(hc), [r] "r"(r)                                     \
			 : CLOB)
	switch (which) {
	case 0:
		ASM_K("fld1");
		break;
	case 1:
		ASM_K("fldl2t");
		break;
	case 2:
		ASM_K("fldl2e");
		break;
	case 3:
		ASM_K("fldpi");
		break;
	case 4:
		ASM_K("fldlg2");
		break;
	case 5:
		ASM_K("fldln2");
		break;
	default:
		ASM_K("fldz");
		break;
	}
#undef ASM_K
}
