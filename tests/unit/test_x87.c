/*
 * tests/unit/test_x87.c — unit tests of the x87 family and the state
 * instructions (cpu/x87/).
 *
 * The differential tests run every x87 register form (and the memory forms)
 * twice: on the host FPU, by executing the very same instruction bytes after
 * loading the same stack (FNINIT, FLDCW, FLD m80...), then capturing the
 * whole state with FNSAVE and RFLAGS; and in nestbox through the registry
 * (optab_find) on a vCPU holding the same stack. Status word (flags, C0-C3,
 * TOP, ES/B), full tag word, every non-empty register (all 80 bits),
 * memory results and, for FCOMI, RFLAGS must match exactly, for a set of
 * special operands (zeros, denormals, pseudo-denormals, unnormals, infinities,
 * QNaN/SNaN, extremes), every rounding and precision control, masked and
 * unmasked exceptions, and stacks that are empty, short or full (stack
 * faults). The rest checks layouts (FSTENV, FSAVE, FXSAVE, XSAVE), faults
 * (#NM, #MF, #GP) and the MMX interaction.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include <check.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/x87/mmx_state.h"
#include "cpu/x87/x87.h"
#include "mmu/mmu.h"

#define RAM (1u << 20)
#define MEM 0x2000u

static struct mmu *mmu;
static struct cpu *c;
static struct cpu_model model;
static uint8_t *ram;
/* Condition codes both sides start with (0 or C0-C3 all set), so that
 * "unchanged" and "cleared" codes are told apart. */
static uint16_t init_sw;

void (*volatile force_link1)(void) = ops_x87_register;
void (*volatile force_link2)(void) = ops_x87_state_register;

static void set_seg(int s, uint32_t attr, uint32_t limit)
{
	c->seg[s].base = 0;
	c->seg[s].limit = limit;
	c->seg[s].attr = attr;
	c->seg[s].sel = 0x10;
}

static void mode_flat32(void)
{
	c->cr0 = CR0_PE | CR0_ET | CR0_NE;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0xc093, 0xffffffffu);
	set_seg(S_CS, 0xc09b, 0xffffffffu);
	c->rflags = F_FIXED1;
	cpu_update_mode(c);
	c->cpl = 0;
}

static void mode_long64(void)
{
	mode_flat32();
	c->msr.efer = EFER_LME | EFER_LMA;
	c->seg[S_CS].attr = 0xa09b;
	c->mode = MODE_LONG64;
}

static void setup(void)
{
	optab_init();
	mmu = mmu_new(RAM);
	ck_assert_ptr_nonnull(mmu);
	mmu_map_ram(mmu, 0, RAM, 0);
	ram = mmu_ram(mmu);
	char err[128];

	ck_assert_msg(cpu_model_parse("intel", &model, err, sizeof(err)), "%s", err);
	c = cpu_new(NULL, mmu, &model, 0);
	ck_assert_ptr_nonnull(c);
	mode_flat32();
	c->rip = 0x1000;
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BX] = MEM;
	x87_init_state(c);
}

static void teardown(void)
{
	init_sw = 0;
	cpu_free(c);
	mmu_free(mmu);
}

static struct insn mk(uint16_t op, uint8_t modrm)
{
	struct insn in;

	memset(&in, 0, sizeof(in));
	in.op = op;
	in.osz = 4;
	in.asz = c->mode == MODE_LONG64 ? 8 : 4;
	in.seg = S_DS;
	in.has_modrm = 1;
	in.modrm = modrm;
	in.mod = modrm >> 6;
	in.reg = (modrm >> 3) & 7;
	in.rm = modrm & 7;
	in.base = in.index = R_NONE;
	in.len = 2;
	if (in.mod != 3) {
		/* [rBX] */
		in.modrm = (uint8_t)((modrm & 0x38) | 3);
		in.mod = 0;
		in.rm = 3;
		in.base = R_BX;
	}
	return in;
}

static int run(struct insn *in)
{
	const struct optab_entry *e = optab_find(in);
	jmp_buf jb;

	ck_assert_msg(e != NULL, "no handler for op %#x modrm %#x", in->op, in->modrm);
	in->fn = e->fn;
	in->flags = e->flags;
	c->exc_jmp = &jb;
	c->ip_start = c->rip;
	c->rip += in->len;
	if (setjmp(jb)) {
		c->exc_jmp = NULL;
		c->rip = c->ip_start;
		return c->exc_vector;
	}
	in->fn(c, in);
	c->exc_jmp = NULL;
	return -1;
}

/* ---------------- host reference ---------------- */

struct hstate {
	uint8_t img[108]; /* FNSAVE, 32-bit protected-mode format */
	uint64_t rflags;
};

typedef void (*hostfn)(uint16_t cw, const f80 *vals, int n, void *m, struct hstate *h);

/* FNINIT; FLDCW cw; push vals[n-1] .. vals[0]; run insn; capture. */
#define HOST(name, insn)                                                                          \
	static void name(uint16_t cw, const f80 *vals, int n, void *m, struct hstate *h)          \
	{                                                                                         \
		uint16_t hcw;                                                                     \
		uint64_t fl;                                                                      \
		uint32_t env[7] = { 0xffff0000u | cw, 0xffff0000u | init_sw, 0xffffffffu };       \
		__asm__ volatile("fnstcw %[hcw]\n\tfninit\n\tfldenv %[env]\n\t"                   \
				 "mov %[n], %%ecx\n\ttest %%ecx, %%ecx\n\tjz 2f\n"                \
				 "1:\n\tdec %%ecx\n\tmov %%rcx, %%rdx\n\tshl $4, %%rdx\n\t"       \
				 "fldt (%[v], %%rdx)\n\ttest %%ecx, %%ecx\n\tjnz 1b\n2:\n\t"      \
				 insn "\n\tpushfq\n\tpopq %[fl]\n\tfnsave %[img]\n\t"             \
				 "fldcw %[hcw]"                                                   \
				 : [img] "=m"(h->img), [fl] "=r"(fl), [hcw] "=m"(hcw)             \
				 : [env] "m"(env), [n] "r"(n), [v] "r"(vals), [m] "r"(m)          \
				 : "rcx", "rdx", "cc", "memory", "st", "st(1)", "st(2)",          \
				   "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");                  \
		h->rflags = fl;                                                                   \
	}

HOST(h_d8c1, ".byte 0xd8, 0xc1") HOST(h_d8c9, ".byte 0xd8, 0xc9") HOST(h_d8d1, ".byte 0xd8, 0xd1")
HOST(h_d8d9, ".byte 0xd8, 0xd9") HOST(h_d8e1, ".byte 0xd8, 0xe1") HOST(h_d8e9, ".byte 0xd8, 0xe9")
HOST(h_d8f1, ".byte 0xd8, 0xf1") HOST(h_d8f9, ".byte 0xd8, 0xf9") HOST(h_dcc1, ".byte 0xdc, 0xc1")
HOST(h_dcc9, ".byte 0xdc, 0xc9") HOST(h_dce1, ".byte 0xdc, 0xe1") HOST(h_dce9, ".byte 0xdc, 0xe9")
HOST(h_dcf1, ".byte 0xdc, 0xf1") HOST(h_dcf9, ".byte 0xdc, 0xf9") HOST(h_dec1, ".byte 0xde, 0xc1")
HOST(h_dec9, ".byte 0xde, 0xc9") HOST(h_dee1, ".byte 0xde, 0xe1") HOST(h_dee9, ".byte 0xde, 0xe9")
HOST(h_def1, ".byte 0xde, 0xf1") HOST(h_def9, ".byte 0xde, 0xf9") HOST(h_ded9, ".byte 0xde, 0xd9")
HOST(h_dde1, ".byte 0xdd, 0xe1") HOST(h_dde9, ".byte 0xdd, 0xe9") HOST(h_dae9, ".byte 0xda, 0xe9")
HOST(h_dbe9, ".byte 0xdb, 0xe9") HOST(h_dbf1, ".byte 0xdb, 0xf1") HOST(h_dfe9, ".byte 0xdf, 0xe9")
HOST(h_dff1, ".byte 0xdf, 0xf1") HOST(h_d9c9, ".byte 0xd9, 0xc9") HOST(h_d9c1, ".byte 0xd9, 0xc1")
HOST(h_ddd1, ".byte 0xdd, 0xd1") HOST(h_ddd9, ".byte 0xdd, 0xd9") HOST(h_d9e0, ".byte 0xd9, 0xe0")
HOST(h_d9e1, ".byte 0xd9, 0xe1") HOST(h_d9e4, ".byte 0xd9, 0xe4") HOST(h_d9e5, ".byte 0xd9, 0xe5")
HOST(h_d9e8, ".byte 0xd9, 0xe8") HOST(h_d9e9, ".byte 0xd9, 0xe9") HOST(h_d9ea, ".byte 0xd9, 0xea")
HOST(h_d9eb, ".byte 0xd9, 0xeb") HOST(h_d9ec, ".byte 0xd9, 0xec") HOST(h_d9ed, ".byte 0xd9, 0xed")
HOST(h_d9ee, ".byte 0xd9, 0xee") HOST(h_d9f0, ".byte 0xd9, 0xf0") HOST(h_d9f1, ".byte 0xd9, 0xf1")
HOST(h_d9f2, ".byte 0xd9, 0xf2") HOST(h_d9f3, ".byte 0xd9, 0xf3") HOST(h_d9f4, ".byte 0xd9, 0xf4")
HOST(h_d9f5, ".byte 0xd9, 0xf5") HOST(h_d9f6, ".byte 0xd9, 0xf6") HOST(h_d9f7, ".byte 0xd9, 0xf7")
HOST(h_d9f8, ".byte 0xd9, 0xf8") HOST(h_d9f9, ".byte 0xd9, 0xf9") HOST(h_d9fa, ".byte 0xd9, 0xfa")
HOST(h_d9fb, ".byte 0xd9, 0xfb") HOST(h_d9fc, ".byte 0xd9, 0xfc") HOST(h_d9fd, ".byte 0xd9, 0xfd")
HOST(h_d9fe, ".byte 0xd9, 0xfe") HOST(h_d9ff, ".byte 0xd9, 0xff") HOST(h_ddc1, ".byte 0xdd, 0xc1")
HOST(h_dfc1, ".byte 0xdf, 0xc1") HOST(h_d9d0, ".byte 0xd9, 0xd0")
HOST(h_fcmovb_t, "stc\n\t.byte 0xda, 0xc1")
HOST(h_fcmovb_f, "clc\n\t.byte 0xda, 0xc1")
HOST(h_fcmovnb_t, "clc\n\t.byte 0xdb, 0xc1")
HOST(h_fcmovnb_f, "stc\n\t.byte 0xdb, 0xc1")

/* Memory forms: the operand is (%[m]). */
HOST(m_fadds, "fadds (%[m])") HOST(m_fmuls, "fmuls (%[m])") HOST(m_fcoms, "fcoms (%[m])")
HOST(m_fcomps, "fcomps (%[m])") HOST(m_fsubs, "fsubs (%[m])") HOST(m_fsubrs, "fsubrs (%[m])")
HOST(m_fdivs, "fdivs (%[m])") HOST(m_fdivrs, "fdivrs (%[m])") HOST(m_faddl, "faddl (%[m])")
HOST(m_fsubrl, "fsubrl (%[m])") HOST(m_fdivl, "fdivl (%[m])") HOST(m_fcompl, "fcompl (%[m])")
HOST(m_fiaddl, "fiaddl (%[m])") HOST(m_ficompl, "ficompl (%[m])") HOST(m_fisubrl, "fisubrl (%[m])")
HOST(m_fiadds, "fiadds (%[m])") HOST(m_ficoms, "ficoms (%[m])") HOST(m_fidivrs, "fidivrs (%[m])")
HOST(m_flds, "flds (%[m])") HOST(m_fldl, "fldl (%[m])") HOST(m_fldt, "fldt (%[m])")
HOST(m_filds, "filds (%[m])") HOST(m_fildl, "fildl (%[m])") HOST(m_fildll, "fildll (%[m])")
HOST(m_fbld, "fbld (%[m])") HOST(m_fsts, "fsts (%[m])") HOST(m_fstps, "fstps (%[m])")
HOST(m_fstl, "fstl (%[m])") HOST(m_fstpl, "fstpl (%[m])") HOST(m_fstpt, "fstpt (%[m])")
HOST(m_fists, "fists (%[m])") HOST(m_fistps, "fistps (%[m])") HOST(m_fistl, "fistl (%[m])")
HOST(m_fistpl, "fistpl (%[m])") HOST(m_fistpll, "fistpll (%[m])") HOST(m_fisttps, "fisttps (%[m])")
HOST(m_fisttpl, "fisttpl (%[m])") HOST(m_fisttpll, "fisttpll (%[m])") HOST(m_fbstp, "fbstp (%[m])")

/* Operands (mantissa, sign+exponent). */
static const f80 vals[] = {
	{ 0, 0 },                                   /* +0 */
	{ 0, 0x8000 },                              /* -0 */
	{ 1ull << 63, 0x3fff },                     /* 1 */
	{ 0xc000000000000000ull, 0xbfff },          /* -1.5 */
	{ 0xc90fdaa22168c235ull, 0x4000 },          /* pi */
	{ 0xd49a784bcd1b8afeull, 0x4000 + 62 },     /* ~7.6e18, beyond trig range */
	{ 0xa2f9836e4e44152aull, 0x3ffd },          /* 0.318... */
	{ 0x8000000000000001ull, 0x0001 },          /* smallest normal + ulp */
	{ 0x0000000000001234ull, 0x0000 },          /* denormal */
	{ 0x8000000000000003ull, 0x0000 },          /* pseudo-denormal */
	{ 0x0000000012345678ull, 0x4005 },          /* unnormal */
	{ 0xffffffffffffffffull, 0x7ffe },          /* max */
	{ 0xfedcba9876543210ull, 0xc200 },          /* large negative */
	{ 0x8000000000000000ull, 0x7fff },          /* +inf */
	{ 0x8000000000000000ull, 0xffff },          /* -inf */
	{ 0xc000000000abcdefull, 0x7fff },          /* QNaN */
	{ 0x8000000000123456ull, 0xffff },          /* SNaN */
	{ 0x8765432112345678ull, 0x3f00 },          /* tiny */
	{ 0xb504f333f9de6484ull, 0x3ffe },          /* sqrt(2)/2 */
	{ 0xfffffffffffff800ull, 0x403e },          /* ~2^63 - 2^11: integer edge */
};
#define NVALS ((int)(sizeof(vals) / sizeof(vals[0])))

struct rcase {
	uint8_t op, modrm;
	hostfn h;
	bool eflags; /* compare RFLAGS (FCOMI family) */
	uint8_t cf;  /* 1: run with CF=1, 2: with CF=0 (FCMOV) */
};

static const struct rcase rcases[] = {
	{ 0xd8, 0xc1, h_d8c1, 0, 0 }, { 0xd8, 0xc9, h_d8c9, 0, 0 }, { 0xd8, 0xd1, h_d8d1, 0, 0 },
	{ 0xd8, 0xd9, h_d8d9, 0, 0 }, { 0xd8, 0xe1, h_d8e1, 0, 0 }, { 0xd8, 0xe9, h_d8e9, 0, 0 },
	{ 0xd8, 0xf1, h_d8f1, 0, 0 }, { 0xd8, 0xf9, h_d8f9, 0, 0 }, { 0xdc, 0xc1, h_dcc1, 0, 0 },
	{ 0xdc, 0xc9, h_dcc9, 0, 0 }, { 0xdc, 0xe1, h_dce1, 0, 0 }, { 0xdc, 0xe9, h_dce9, 0, 0 },
	{ 0xdc, 0xf1, h_dcf1, 0, 0 }, { 0xdc, 0xf9, h_dcf9, 0, 0 }, { 0xde, 0xc1, h_dec1, 0, 0 },
	{ 0xde, 0xc9, h_dec9, 0, 0 }, { 0xde, 0xe1, h_dee1, 0, 0 }, { 0xde, 0xe9, h_dee9, 0, 0 },
	{ 0xde, 0xf1, h_def1, 0, 0 }, { 0xde, 0xf9, h_def9, 0, 0 }, { 0xde, 0xd9, h_ded9, 0, 0 },
	{ 0xdd, 0xe1, h_dde1, 0, 0 }, { 0xdd, 0xe9, h_dde9, 0, 0 }, { 0xda, 0xe9, h_dae9, 0, 0 },
	{ 0xdb, 0xe9, h_dbe9, 1, 0 }, { 0xdb, 0xf1, h_dbf1, 1, 0 }, { 0xdf, 0xe9, h_dfe9, 1, 0 },
	{ 0xdf, 0xf1, h_dff1, 1, 0 }, { 0xd9, 0xc9, h_d9c9, 0, 0 }, { 0xd9, 0xc1, h_d9c1, 0, 0 },
	{ 0xdd, 0xd1, h_ddd1, 0, 0 }, { 0xdd, 0xd9, h_ddd9, 0, 0 }, { 0xd9, 0xe0, h_d9e0, 0, 0 },
	{ 0xd9, 0xe1, h_d9e1, 0, 0 }, { 0xd9, 0xe4, h_d9e4, 0, 0 }, { 0xd9, 0xe5, h_d9e5, 0, 0 },
	{ 0xd9, 0xe8, h_d9e8, 0, 0 }, { 0xd9, 0xe9, h_d9e9, 0, 0 }, { 0xd9, 0xea, h_d9ea, 0, 0 },
	{ 0xd9, 0xeb, h_d9eb, 0, 0 }, { 0xd9, 0xec, h_d9ec, 0, 0 }, { 0xd9, 0xed, h_d9ed, 0, 0 },
	{ 0xd9, 0xee, h_d9ee, 0, 0 }, { 0xd9, 0xf0, h_d9f0, 0, 0 }, { 0xd9, 0xf1, h_d9f1, 0, 0 },
	{ 0xd9, 0xf2, h_d9f2, 0, 0 }, { 0xd9, 0xf3, h_d9f3, 0, 0 }, { 0xd9, 0xf4, h_d9f4, 0, 0 },
	{ 0xd9, 0xf5, h_d9f5, 0, 0 }, { 0xd9, 0xf6, h_d9f6, 0, 0 }, { 0xd9, 0xf7, h_d9f7, 0, 0 },
	{ 0xd9, 0xf8, h_d9f8, 0, 0 }, { 0xd9, 0xf9, h_d9f9, 0, 0 }, { 0xd9, 0xfa, h_d9fa, 0, 0 },
	{ 0xd9, 0xfb, h_d9fb, 0, 0 }, { 0xd9, 0xfc, h_d9fc, 0, 0 }, { 0xd9, 0xfd, h_d9fd, 0, 0 },
	{ 0xd9, 0xfe, h_d9fe, 0, 0 }, { 0xd9, 0xff, h_d9ff, 0, 0 }, { 0xdd, 0xc1, h_ddc1, 0, 0 },
	{ 0xdf, 0xc1, h_dfc1, 0, 0 }, { 0xd9, 0xd0, h_d9d0, 0, 0 },
	{ 0xda, 0xc1, h_fcmovb_t, 0, 1 }, { 0xda, 0xc1, h_fcmovb_f, 0, 2 },
	{ 0xdb, 0xc1, h_fcmovnb_t, 0, 2 }, { 0xdb, 0xc1, h_fcmovnb_f, 0, 1 },
};
#define NRCASES ((int)(sizeof(rcases) / sizeof(rcases[0])))

/* Memory operand patterns by kind. */
enum mkind { K_F32, K_F64, K_F80, K_I16, K_I32, K_I64, K_BCD, K_STORE };

struct mcase {
	uint8_t op, reg;
	enum mkind kind;
	hostfn h;
	const char *name;
};

static const struct mcase mcases[] = {
	{ 0xd8, 0, K_F32, m_fadds, "fadds" },     { 0xd8, 1, K_F32, m_fmuls, "fmuls" },
	{ 0xd8, 2, K_F32, m_fcoms, "fcoms" },     { 0xd8, 3, K_F32, m_fcomps, "fcomps" },
	{ 0xd8, 4, K_F32, m_fsubs, "fsubs" },     { 0xd8, 5, K_F32, m_fsubrs, "fsubrs" },
	{ 0xd8, 6, K_F32, m_fdivs, "fdivs" },     { 0xd8, 7, K_F32, m_fdivrs, "fdivrs" },
	{ 0xdc, 0, K_F64, m_faddl, "faddl" },     { 0xdc, 5, K_F64, m_fsubrl, "fsubrl" },
	{ 0xdc, 6, K_F64, m_fdivl, "fdivl" },     { 0xdc, 3, K_F64, m_fcompl, "fcompl" },
	{ 0xda, 0, K_I32, m_fiaddl, "fiaddl" },   { 0xda, 3, K_I32, m_ficompl, "ficompl" },
	{ 0xda, 5, K_I32, m_fisubrl, "fisubrl" }, { 0xde, 0, K_I16, m_fiadds, "fiadds" },
	{ 0xde, 2, K_I16, m_ficoms, "ficoms" },   { 0xde, 7, K_I16, m_fidivrs, "fidivrs" },
	{ 0xd9, 0, K_F32, m_flds, "flds" },       { 0xdd, 0, K_F64, m_fldl, "fldl" },
	{ 0xdb, 5, K_F80, m_fldt, "fldt" },       { 0xdf, 0, K_I16, m_filds, "filds" },
	{ 0xdb, 0, K_I32, m_fildl, "fildl" },     { 0xdf, 5, K_I64, m_fildll, "fildll" },
	{ 0xdf, 4, K_BCD, m_fbld, "fbld" },       { 0xd9, 2, K_STORE, m_fsts, "fsts" },
	{ 0xd9, 3, K_STORE, m_fstps, "fstps" },   { 0xdd, 2, K_STORE, m_fstl, "fstl" },
	{ 0xdd, 3, K_STORE, m_fstpl, "fstpl" },   { 0xdb, 7, K_STORE, m_fstpt, "fstpt" },
	{ 0xdf, 2, K_STORE, m_fists, "fists" },   { 0xdf, 3, K_STORE, m_fistps, "fistps" },
	{ 0xdb, 2, K_STORE, m_fistl, "fistl" },   { 0xdb, 3, K_STORE, m_fistpl, "fistpl" },
	{ 0xdf, 7, K_STORE, m_fistpll, "fistpll" }, { 0xdf, 1, K_STORE, m_fisttps, "fisttps" },
	{ 0xdb, 1, K_STORE, m_fisttpl, "fisttpl" }, { 0xdd, 1, K_STORE, m_fisttpll, "fisttpll" },
	{ 0xdf, 6, K_STORE, m_fbstp, "fbstp" },
};
#define NMCASES ((int)(sizeof(mcases) / sizeof(mcases[0])))

static const uint32_t f32pats[] = {
	0x3fc00000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0x7f800000,
	0xff800000, 0x7fc00123, 0x7f800123, 0x40490fdb, 0x00800000, 0xc2f6e979,
};
static const uint64_t f64pats[] = {
	0x3ff8000000000000ull, 0x8000000000000000ull, 0x0000000000000001ull,
	0x000fffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull,
	0xfff8000000000000ull, 0x7ff0000000000123ull, 0x400921fb54442d18ull,
	0x3ca0000000000001ull,
};
static const int64_t ipats[] = {
	0, 1, -1, 7, -32768, 32767, 0x12345678, -0x7fffffff - 1, 0x7fffffffffffffffll,
	(int64_t)0x8000000000000000ull, 1000000007, -12345,
};
static const uint8_t bcdpats[][10] = {
	{ 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x00 },
	{ 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x80 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 },
	{ 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00 },
};

static const uint16_t rcs[4] = { 0x0000, 0x0400, 0x0800, 0x0c00 };
static const uint16_t pcs[3] = { 0x0000, 0x0200, 0x0300 };

/* Set the guest stack like the host sequence does. */
static void guest_load(uint16_t cw, const f80 *v, int n)
{
	x87_init_state(c);
	c->fpu.fcw = cw;
	c->fpu.fsw = init_sw;
	for (int k = n - 1; k >= 0; k--)
		x87_push(c, &v[k]);
	c->cr0 = CR0_PE | CR0_ET | CR0_NE;
}

static uint16_t img16(const struct hstate *h, int off)
{
	uint16_t v;

	memcpy(&v, h->img + off, 2);
	return v;
}

static int nfail;

/* Compare the guest state with the host's FNSAVE image; returns 0 if equal. */
static int compare(const struct hstate *h, bool eflags, const char *what, uint16_t cw,
		   const f80 *v, int n)
{
	uint16_t hsw = img16(h, 4), htw = img16(h, 8);
	char buf[256] = "";

	if (c->fpu.fsw != hsw || c->fpu.ftw != htw)
		snprintf(buf, sizeof(buf), "fsw %04x/%04x ftw %04x/%04x", c->fpu.fsw, hsw,
			 c->fpu.ftw, htw);
	for (int i = 0; i < 8 && !buf[0]; i++) {
		if (x87_empty(c, (unsigned)i))
			continue;
		if (memcmp(x87_st(c, (unsigned)i), h->img + 28 + 10 * i, 10)) {
			uint64_t hm;
			uint16_t he;

			memcpy(&hm, h->img + 28 + 10 * i, 8);
			memcpy(&he, h->img + 36 + 10 * i, 2);
			snprintf(buf, sizeof(buf), "ST(%d) %04x:%016llx / host %04x:%016llx", i,
				 x87_st(c, (unsigned)i)->sexp,
				 (unsigned long long)x87_st(c, (unsigned)i)->mant, he,
				 (unsigned long long)hm);
		}
	}
	if (!buf[0] && eflags) {
		uint32_t g = (uint32_t)flags_get(c) & F_ARITH, hf = (uint32_t)h->rflags & F_ARITH;

		if (g != hf)
			snprintf(buf, sizeof(buf), "rflags %03x / host %03x", g, hf);
	}
	if (!buf[0])
		return 0;
	if (nfail++ < 1000000 && getenv("X87_VERBOSE"))
		fprintf(stderr, "MISMATCH %s cw=%04x n=%d a=%04x:%016llx b=%04x:%016llx: %s\n",
			what, cw, n, n > 0 ? v[0].sexp : 0,
			n > 0 ? (unsigned long long)v[0].mant : 0,
			n > 1 ? v[1].sexp : 0, n > 1 ? (unsigned long long)v[1].mant : 0, buf);
	return 1;
}

static uint16_t cw_of(int rc, int pc, bool unmasked)
{
	return (uint16_t)(0x0040 | rcs[rc] | pcs[pc] | (unmasked ? 0 : 0x3f));
}

/* Modes 0-11: every RC x PC with all exceptions masked; 12-13: unmasked. */
static uint16_t mode_cw(int m)
{
	return m < 12 ? cw_of(m & 3, m >> 2, false) : cw_of(m & 1 ? 2 : 0, 2, true);
}

/* ---------------- differential: register forms ---------------- */

START_TEST(t_diff_reg)
{
	static const int depths[] = { 2, 1, 0, 8 };
	struct hstate h;
	f80 st[8];
	long runs = 0;
	int before = 0;

	nfail = 0;
	for (int k = 0; k < NRCASES; k++) {
		const struct rcase *rc = &rcases[k];
		char what[32];

		snprintf(what, sizeof(what), "%02x %02x", rc->op, rc->modrm);
		for (int di = 0; di < 4; di++)
			for (int ai = 0; ai < NVALS; ai++)
				for (int bi = 0; bi < NVALS; bi++)
					for (int m = 0; m < 14; m++) {
						int n = depths[di];
						/* 12 masked RC x PC modes, 2 unmasked */
						uint16_t cw = mode_cw(m);

						if (n < 2 && bi > 0)
							break;
						if (n == 0 && ai > 0)
							break;
						st[0] = vals[ai];
						for (int j = 1; j < 8; j++)
							st[j] = vals[bi];
						init_sw = (ai + bi + m) & 1 ? FSW_CC : 0;
						rc->h(cw, st, n, NULL, &h);
						guest_load(cw, st, n);
						lf_set(c, CC_OP(CC_LOGIC, 4), 1, 0, 0);
						if (rc->cf)
							flags_set(c, rc->cf == 1 ? F_CF : 0,
								  F_ARITH);
						struct insn in = mk(rc->op, rc->modrm);
						ck_assert_int_eq(run(&in), -1);
						compare(&h, rc->eflags, what, cw, st, n);
						runs++;
					}
		if (nfail != before)
			fprintf(stderr, "case %s: %d mismatches\n", what, nfail - before);
		before = nfail;
	}
	ck_assert_msg(nfail == 0, "%d mismatches in %ld runs", nfail, runs);
}
END_TEST

/* Random operands of nearby magnitude (so results are not all trivially
 * rounded away), every register form, every mode, two-deep stack. */
START_TEST(t_diff_random)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct hstate h;
	f80 st[8];
	long runs = 0;

	nfail = 0;
	for (int k = 0; k < NRCASES; k++) {
		const struct rcase *rc = &rcases[k];
		char what[32];

		snprintf(what, sizeof(what), "rnd %02x %02x", rc->op, rc->modrm);
		for (int r = 0; r < 150; r++) {
			for (int j = 0; j < 2; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				st[j].mant = x | 1ull << 63;
				st[j].sexp = (uint16_t)(0x3fff + (int)((x >> 3) % 140) - 70);
				if (x & 4)
					st[j].sexp |= 0x8000;
			}
			for (int j = 2; j < 8; j++)
				st[j] = st[1];
			for (int m = 0; m < 14; m++) {
				uint16_t cw = mode_cw(m);

				init_sw = (r + m) & 1 ? FSW_CC : 0;
				rc->h(cw, st, 2, NULL, &h);
				guest_load(cw, st, 2);
				lf_set(c, CC_OP(CC_LOGIC, 4), 1, 0, 0);
				if (rc->cf)
					flags_set(c, rc->cf == 1 ? F_CF : 0, F_ARITH);
				struct insn in = mk(rc->op, rc->modrm);
				ck_assert_int_eq(run(&in), -1);
				compare(&h, rc->eflags, what, cw, st, 2);
				runs++;
			}
		}
	}
	ck_assert_msg(nfail == 0, "%d mismatches in %ld runs", nfail, runs);
}
END_TEST

/* ---------------- differential: memory forms ---------------- */

static int npats(enum mkind k)
{
	switch (k) {
	case K_F32:
		return (int)(sizeof(f32pats) / sizeof(f32pats[0]));
	case K_F64:
		return (int)(sizeof(f64pats) / sizeof(f64pats[0]));
	case K_F80:
		return NVALS;
	case K_BCD:
		return (int)(sizeof(bcdpats) / sizeof(bcdpats[0]));
	case K_STORE:
		return 1;
	default:
		return (int)(sizeof(ipats) / sizeof(ipats[0]));
	}
}

static void fill_mem(uint8_t *m, enum mkind k, int p)
{
	memset(m, 0xaa, 16);
	switch (k) {
	case K_F32:
		memcpy(m, &f32pats[p], 4);
		break;
	case K_F64:
		memcpy(m, &f64pats[p], 8);
		break;
	case K_F80:
		memcpy(m, &vals[p], 10);
		break;
	case K_I16:
		memcpy(m, &ipats[p], 2);
		break;
	case K_I32:
		memcpy(m, &ipats[p], 4);
		break;
	case K_I64:
		memcpy(m, &ipats[p], 8);
		break;
	case K_BCD:
		memcpy(m, bcdpats[p], 10);
		break;
	case K_STORE:
		break;
	}
}

START_TEST(t_diff_mem)
{
	static const int depths[] = { 2, 0, 8 };
	uint8_t hmem[16];
	struct hstate h;
	f80 st[8];
	long runs = 0;
	int before = 0;

	nfail = 0;
	for (int k = 0; k < NMCASES; k++) {
		const struct mcase *mc = &mcases[k];

		for (int di = 0; di < 3; di++)
			for (int ai = 0; ai < NVALS; ai++)
				for (int p = 0; p < npats(mc->kind); p++)
					for (int m = 0; m < 14; m++) {
						int n = depths[di];
						uint16_t cw = mode_cw(m);

						if (n == 0 && ai > 0)
							break;
						st[0] = vals[ai];
						for (int j = 1; j < 8; j++)
							st[j] = vals[(ai + j) % NVALS];
						fill_mem(hmem, mc->kind, p);
						memcpy(ram + MEM, hmem, 16);
						init_sw = (ai + p + m) & 1 ? FSW_CC : 0;
						mc->h(cw, st, n, hmem, &h);
						guest_load(cw, st, n);
						struct insn in =
							mk(mc->op, (uint8_t)(mc->reg << 3));
						ck_assert_int_eq(run(&in), -1);
						if (!compare(&h, false, mc->name, cw, st, n) &&
						    memcmp(ram + MEM, hmem, 16)) {
							if (nfail++ < 20)
								fprintf(stderr,
									"MISMATCH %s memory "
									"cw=%04x a=%d p=%d\n",
									mc->name, cw, ai, p);
						}
						runs++;
					}
		if (nfail != before)
			fprintf(stderr, "case %s: %d mismatches\n", mc->name, nfail - before);
		before = nfail;
	}
	ck_assert_msg(nfail == 0, "%d mismatches in %ld runs", nfail, runs);
}
END_TEST

/* ---------------- FCMOVcc ---------------- */

START_TEST(t_fcmov)
{
	f80 st[2] = { vals[2], vals[4] };

	/* FCMOVB with CF=1 moves, FCMOVNB does not. */
	guest_load(FCW_INIT, st, 2);
	flags_set(c, F_CF, F_ARITH);
	struct insn in = mk(0xda, 0xc1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(x87_st(c, 0), &vals[4], 10);
	guest_load(FCW_INIT, st, 2);
	in = mk(0xdb, 0xc1);
	run(&in);
	ck_assert_mem_eq(x87_st(c, 0), &vals[2], 10);
	/* FCMOVU follows PF; FCMOVNE follows ZF. */
	flags_set(c, F_PF, F_ARITH);
	in = mk(0xda, 0xd9);
	run(&in);
	ck_assert_mem_eq(x87_st(c, 0), &vals[4], 10);
	guest_load(FCW_INIT, st, 2);
	flags_set(c, F_ZF, F_ARITH);
	in = mk(0xdb, 0xc9);
	run(&in);
	ck_assert_mem_eq(x87_st(c, 0), &vals[2], 10);
	/* Stack underflow (ST(1) empty), masked: ST(0) = indefinite, IE|SF. */
	guest_load(FCW_INIT, st, 1);
	in = mk(0xda, 0xc1);
	run(&in);
	ck_assert_mem_eq(x87_st(c, 0), &x87_indefinite, 10);
	ck_assert_uint_eq(c->fpu.fsw & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF);
}
END_TEST

/* ---------------- faults ---------------- */

START_TEST(t_nm_mf)
{
	f80 st[2] = { vals[2], vals[0] };
	struct insn in;

	/* CR0.TS: #NM for ESC opcodes, FWAIT only with MP too. */
	guest_load(FCW_INIT, st, 2);
	c->cr0 |= CR0_TS;
	in = mk(0xd8, 0xc1);
	ck_assert_int_eq(run(&in), EXC_NM);
	in = mk(0x9b, 0);
	in.has_modrm = 0;
	in.len = 1;
	ck_assert_int_eq(run(&in), -1);
	c->cr0 |= CR0_MP;
	ck_assert_int_eq(run(&in), EXC_NM);
	c->cr0 &= ~(CR0_TS | CR0_MP);
	c->cr0 |= CR0_EM;
	in = mk(0xdb, 0xe3); /* FNINIT */
	ck_assert_int_eq(run(&in), EXC_NM);
	c->cr0 &= ~CR0_EM;

	/* Unmasked ZE: 1/0 leaves ST(0) alone, sets ZE|ES|B; the next waiting
	 * instruction takes #MF (NE=1); FNSTSW/FNCLEX do not. */
	guest_load(0x037b, st, 2); /* ZM clear */
	c->rip = 0x1000;
	in = mk(0xd8, 0xf1);      /* FDIV ST(0), ST(1) */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(x87_st(c, 0), &vals[2], 10);
	ck_assert_uint_eq(c->fpu.fsw & (FSW_ZE | FSW_ES | FSW_B), FSW_ZE | FSW_ES | FSW_B);
	ck_assert_uint_eq(c->fpu.fop, 0x0f1);
	ck_assert_uint_eq(c->fpu.fip, 0x1000);
	in = mk(0xd8, 0xc1);
	ck_assert_int_eq(run(&in), EXC_MF);
	in = mk(0x9b, 0);
	in.has_modrm = 0;
	in.len = 1;
	ck_assert_int_eq(run(&in), EXC_MF);
	in = mk(0xdf, 0xe0); /* FNSTSW AX */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX] & 0xffff, c->fpu.fsw);
	/* NE=0: recorded, no #MF. */
	c->cr0 &= ~CR0_NE;
	in = mk(0xd9, 0xd0); /* FNOP */
	ck_assert_int_eq(run(&in), -1);
	c->cr0 |= CR0_NE;
	in = mk(0xdb, 0xe2); /* FNCLEX */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.fsw & 0x80ff, 0);
	in = mk(0xd8, 0xc1);
	ck_assert_int_eq(run(&in), -1);

	/* FLDCW unmasking a pending flag sets ES. */
	guest_load(FCW_INIT, st, 2);
	c->fpu.fsw |= FSW_PE;
	*(uint16_t *)(ram + MEM) = 0x035f;
	in = mk(0xd9, 5 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.fcw, 0x035f);
	ck_assert_uint_eq(c->fpu.fsw & (FSW_ES | FSW_B), FSW_ES | FSW_B);
}
END_TEST

/* Stack overflow: pushing onto a full stack (IE|SF|C1). */
START_TEST(t_stack_overflow)
{
	f80 st[8];
	struct insn in;

	for (int i = 0; i < 8; i++)
		st[i] = vals[2];
	guest_load(FCW_INIT, st, 8);
	in = mk(0xd9, 0xe8); /* FLD1 */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.fsw & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
	ck_assert_mem_eq(x87_st(c, 0), &x87_indefinite, 10);
	/* Unmasked: nothing pushed, ES set. */
	guest_load(0x037e, st, 8);
	unsigned top = x87_top(c);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(x87_top(c), top);
	ck_assert_uint_eq(c->fpu.fsw & (FSW_IE | FSW_SF | FSW_ES), FSW_IE | FSW_SF | FSW_ES);
}
END_TEST

/* ---------------- environment / save images ---------------- */

START_TEST(t_fstenv_vs_host)
{
	f80 st[3] = { vals[4], vals[0], vals[13] };
	uint8_t henv[28], *genv = ram + MEM;
	struct insn in;

	/* Host: same stack, FNSTENV (64-bit host: 32-bit protected format). */
	__asm__ volatile("fninit\n\tfldt %3\n\tfldt %2\n\tfldt %1\n\tfnstenv %0\n\tfninit"
			 : "=m"(henv)
			 : "m"(st[0]), "m"(st[1]), "m"(st[2])
			 : "memory", "st", "st(1)", "st(2)");
	guest_load(FCW_INIT, st, 3);
	in = mk(0xd9, 6 << 3);
	ck_assert_int_eq(run(&in), -1);
	/* Control, status, tag words and their reserved halves. */
	ck_assert_mem_eq(genv, henv, 12);
	ck_assert_uint_eq(c->fpu.fcw, FCW_INIT); /* all were masked already */
	ck_assert_uint_eq(genv[26], henv[26]);
	ck_assert_uint_eq(genv[27], henv[27]);

	/* 16-bit forms (66 prefix): 14-byte environment, 94-byte FNSAVE. */
	uint8_t hsv[94];

	__asm__ volatile("fninit\n\tfldt %3\n\tfldt %2\n\tfldt %1\n\t"
			 ".byte 0x66\n\tfnsave %0\n\tfninit"
			 : "=m"(hsv)
			 : "m"(st[0]), "m"(st[1]), "m"(st[2])
			 : "memory", "st", "st(1)", "st(2)");
	mode_long64();
	guest_load(FCW_INIT, st, 3);
	memset(genv, 0xaa, 128);
	in = mk(0xdd, 6 << 3);
	in.osz = 2;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(genv, hsv, 6);
	ck_assert_mem_eq(genv + 14, hsv + 14, 80);
	ck_assert_uint_eq(genv[94], 0xaa);
	mode_flat32();

	/* FLDENV round trip, 16-bit protected and 32-bit real formats. */
	for (int f = 0; f < 2; f++) {
		guest_load(0x0242, st, 3); /* PE unmasked */
		c->fpu.fsw |= FSW_C3 | FSW_PE | FSW_ES | FSW_B;
		c->fpu.fip = 0x1234;
		c->fpu.fcs = 0x0100;
		c->fpu.fdp = 0x5678;
		c->fpu.fds = 0x0200;
		c->fpu.fop = 0x5ab;
		if (f)
			c->mode = MODE_REAL;
		struct fpu_state before = c->fpu;

		in = mk(0xd9, 6 << 3);
		in.osz = f ? 4 : 2;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fcw, 0x0242 | 0x3f);
		ck_assert_uint_eq(c->fpu.fsw & (FSW_ES | FSW_B), 0);
		x87_init_state(c);
		in = mk(0xd9, 4 << 3);
		in.osz = f ? 4 : 2;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fcw, before.fcw);
		ck_assert_uint_eq(c->fpu.fsw, before.fsw);
		ck_assert_uint_eq(c->fpu.ftw, before.ftw);
		if (f) {
			ck_assert_uint_eq(c->fpu.fip, 0x1234 + 0x1000);
			ck_assert_uint_eq(c->fpu.fdp, 0x5678 + 0x2000);
			ck_assert_uint_eq(c->fpu.fop, 0x5ab);
		} else {
			ck_assert_uint_eq(c->fpu.fip, 0x1234);
			ck_assert_uint_eq(c->fpu.fcs, 0x0100);
			ck_assert_uint_eq(c->fpu.fdp, 0x5678);
			ck_assert_uint_eq(c->fpu.fds, 0x0200);
		}
		mode_flat32();
	}
}
END_TEST

START_TEST(t_fsave_frstor)
{
	f80 st[3] = { vals[4], vals[8], vals[15] };
	uint8_t hs[108];
	struct insn in;

	__asm__ volatile("fninit\n\tfldt %3\n\tfldt %2\n\tfldt %1\n\tfnsave %0"
			 : "=m"(hs)
			 : "m"(st[0]), "m"(st[1]), "m"(st[2])
			 : "memory", "st", "st(1)", "st(2)");
	guest_load(FCW_INIT, st, 3);
	struct fpu_state before = c->fpu;

	in = mk(0xdd, 6 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(ram + MEM, hs, 12);
	ck_assert_mem_eq(ram + MEM + 28, hs + 28, 80);
	ck_assert_uint_eq(c->fpu.ftw, 0xffff); /* FNINIT after the save */
	ck_assert_uint_eq(c->fpu.fcw, FCW_INIT);
	in = mk(0xdd, 4 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.fsw, before.fsw);
	ck_assert_uint_eq(c->fpu.ftw, before.ftw);
	for (int i = 0; i < 3; i++)
		ck_assert_mem_eq(x87_st(c, (unsigned)i), &st[i], 10);
}
END_TEST

START_TEST(t_fxsave_layout)
{
	f80 st[2] = { vals[4], vals[2] };
	uint8_t *img = ram + MEM;
	struct insn in;

	mode_long64();
	guest_load(0x027f, st, 2);
	c->fpu.fsw |= FSW_C2;
	c->fpu.fop = 0x1e5;
	c->fpu.fip = 0x123456789aull;
	c->fpu.fcs = 0x33;
	c->fpu.fdp = 0xfedcba9876ull;
	c->fpu.fds = 0x2b;
	c->fpu.mxcsr = 0x1fa0;
	for (int i = 0; i < 16; i++)
		memset(&c->fpu.xmm[i], 0x10 + i, 16);
	memset(img, 0xee, 576);
	in = mk(0x1ae, 0 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint16_t *)(img + 0), 0x027f);
	ck_assert_uint_eq(*(uint16_t *)(img + 2), c->fpu.fsw);
	ck_assert_uint_eq(img[4], 0xc0); /* R6, R7 in use */
	ck_assert_uint_eq(img[5], 0);
	ck_assert_uint_eq(*(uint16_t *)(img + 6), 0x1e5);
	ck_assert_uint_eq(*(uint32_t *)(img + 8), 0x3456789a);
	ck_assert_uint_eq(*(uint16_t *)(img + 12), 0x33);
	ck_assert_uint_eq(*(uint32_t *)(img + 16), 0xdcba9876);
	ck_assert_uint_eq(*(uint16_t *)(img + 20), 0x2b);
	ck_assert_uint_eq(*(uint32_t *)(img + 24), 0x1fa0);
	ck_assert_uint_eq(*(uint32_t *)(img + 28), 0xffff);
	ck_assert_mem_eq(img + 32, &vals[4], 10);
	ck_assert_mem_eq(img + 48, &vals[2], 10);
	ck_assert_uint_eq(img[42], 0);
	ck_assert_uint_eq(img[160], 0x10);
	ck_assert_uint_eq(img[160 + 15 * 16], 0x1f);
	ck_assert_uint_eq(img[416], 0xee); /* reserved area untouched */

	/* FXSAVE64 (REX.W): 64-bit FIP/FDP. */
	in.pfx |= PFX_REXW;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint64_t *)(img + 8), 0x123456789aull);
	ck_assert_uint_eq(*(uint64_t *)(img + 16), 0xfedcba9876ull);

	/* FXRSTOR round trip. */
	struct fpu_state before = c->fpu;

	x87_init_state(c);
	c->fpu.mxcsr = 0x1f80;
	memset(c->fpu.xmm, 0, sizeof(c->fpu.xmm));
	in = mk(0x1ae, 1 << 3);
	in.pfx |= PFX_REXW;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.fcw, before.fcw);
	ck_assert_uint_eq(c->fpu.fsw, before.fsw);
	ck_assert_uint_eq(c->fpu.ftw, before.ftw);
	ck_assert_uint_eq(c->fpu.fip, before.fip);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1fa0);
	ck_assert_mem_eq(c->fpu.xmm, before.xmm, sizeof(before.xmm));
	ck_assert_mem_eq(x87_st(c, 0), &vals[4], 10);

	/* Reserved MXCSR bits: #GP(0), nothing loaded. */
	*(uint32_t *)(img + 24) = 0x10000;
	x87_init_state(c);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->fpu.ftw, 0xffff);
	/* Misaligned: #GP(0). */
	c->gpr[R_BX] = MEM + 8;
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mk(0x1ae, 0);
	ck_assert_int_eq(run(&in), EXC_GP);
	/* #NM with CR0.TS. */
	c->gpr[R_BX] = MEM;
	c->cr0 |= CR0_TS;
	ck_assert_int_eq(run(&in), EXC_NM);
}
END_TEST

START_TEST(t_fxsave_vs_host)
{
	f80 st[3] = { vals[4], vals[9], vals[16] };
	uint8_t __attribute__((aligned(16))) hx[512];
	struct insn in;

	/* Host FXSAVE (no REX.W) of the same stack; compare the x87 part that
	 * does not depend on FIP/FOP/FDP policy: FCW FSW FTW and registers. */
	__asm__ volatile("fninit\n\tfldt %3\n\tfldt %2\n\tfldt %1\n\tfxsave %0\n\tfninit"
			 : "=m"(hx)
			 : "m"(st[0]), "m"(st[1]), "m"(st[2])
			 : "memory", "st", "st(1)", "st(2)");
	mode_long64();
	guest_load(FCW_INIT, st, 3);
	in = mk(0x1ae, 0);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(ram + MEM, hx, 6);
	ck_assert_mem_eq(ram + MEM + 32, hx + 32, 128);
}
END_TEST

/* A faulting memory operand commits nothing (precise faults). */
START_TEST(t_fault_precise)
{
	f80 st[2] = { vals[4], vals[2] };
	struct insn in;

	guest_load(FCW_INIT, st, 2);
	c->fpu.fip = 0x777;
	struct fpu_state before = c->fpu;

	c->seg[S_DS].limit = MEM - 1; /* [rBX] = MEM is beyond the limit */
	in = mk(0xdd, 3 << 3);        /* FSTP m64 */
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mk(0xd9, 0 << 3); /* FLD m32 */
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mk(0xdf, 7 << 3); /* FISTP m64 */
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mk(0xd8, 0 << 3); /* FADD m32 */
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_mem_eq(&c->fpu, &before, sizeof(before));
}
END_TEST

/* AMD models store FOP/FIP/FDP in FXSAVE only with ES set. */
START_TEST(t_fxsave_amd)
{
	char err[128];
	struct cpu_model amd;
	struct insn in;

	ck_assert(cpu_model_parse("amd", &amd, err, sizeof(err)));
	c->model = &amd;
	guest_load(FCW_INIT, vals, 1);
	c->fpu.fop = 0x123;
	c->fpu.fip = 0x4567;
	c->fpu.fdp = 0x89ab;
	memset(ram + MEM, 0xee, 512);
	in = mk(0x1ae, 0);
	ck_assert_int_eq(run(&in), -1);
	for (int i = 6; i < 24; i++)
		ck_assert_uint_eq(ram[MEM + i], 0);
	c->fpu.fsw |= FSW_ES;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint16_t *)(ram + MEM + 6), 0x123);
	ck_assert_uint_eq(*(uint32_t *)(ram + MEM + 8), 0x4567);
	c->model = &model;
}
END_TEST

START_TEST(t_mxcsr)
{
	struct insn in;

	c->cr4 |= CR4_OSFXSR;
	*(uint32_t *)(ram + MEM) = 0x1fc0; /* DAZ */
	in = mk(0x1ae, 2 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1fc0);
	*(uint32_t *)(ram + MEM) = 0x21f80;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1fc0);
	in = mk(0x1ae, 3 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint32_t *)(ram + MEM), 0x1fc0);
	c->cr4 &= ~CR4_OSFXSR;
	ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

START_TEST(t_xsave)
{
	f80 st[2] = { vals[4], vals[2] };
	uint8_t *img = ram + MEM * 2; /* 64-byte aligned */
	struct insn in;

	mode_long64();
	c->gpr[R_BX] = MEM * 2;
	guest_load(FCW_INIT, st, 2);
	c->fpu.mxcsr = 0x1f80;
	memset(c->fpu.xmm, 0x5a, sizeof(c->fpu.xmm));
	c->gpr[R_AX] = 3;
	c->gpr[R_DX] = 0;
	in = mk(0x1ae, 4 << 3);
	/* #UD without CR4.OSXSAVE. */
	ck_assert_int_eq(run(&in), EXC_UD);
	c->cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
	c->xcr0 = 3;
	memset(img, 0, 576);
	*(uint64_t *)(img + 512) = 0x4; /* foreign bit: preserved */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint64_t *)(img + 512), 0x7);
	ck_assert_uint_eq(*(uint16_t *)img, FCW_INIT);
	ck_assert_mem_eq(img + 32, &vals[4], 10);
	ck_assert_uint_eq(img[160], 0x5a);
	ck_assert_uint_eq(*(uint32_t *)(img + 24), 0x1f80);

	/* XRSTOR: XSTATE_BV[1] = 0 initialises the XMMs, x87 loaded. */
	*(uint64_t *)(img + 512) = 1;
	x87_init_state(c);
	in = mk(0x1ae, 5 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_mem_eq(x87_st(c, 0), &vals[4], 10);
	ck_assert_uint_eq(c->fpu.xmm[3].q[0], 0);
	/* Bad header: XCOMP_BV bits in the standard form, XSTATE_BV outside
	 * XCR0: #GP and nothing changes. */
	*(uint64_t *)(img + 520) = 1;
	ck_assert_int_eq(run(&in), EXC_GP);
	*(uint64_t *)(img + 520) = 0;
	*(uint64_t *)(img + 512) = 4;
	ck_assert_int_eq(run(&in), EXC_GP);
	/* Misaligned (16 but not 64). */
	*(uint64_t *)(img + 512) = 3;
	c->gpr[R_BX] = MEM * 2 + 16;
	ck_assert_int_eq(run(&in), EXC_GP);
	c->gpr[R_BX] = MEM * 2;

	/* XSAVEC: compacted header, then XRSTOR of that image. */
	memset(c->fpu.xmm, 0x5a, sizeof(c->fpu.xmm));
	memset(img + 512, 0xff, 64);
	in = mk(0x1c7, 4 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(*(uint64_t *)(img + 512), 3);
	ck_assert_uint_eq(*(uint64_t *)(img + 520), 3 | 1ull << 63);
	memset(img + 528, 0, 48);
	memset(c->fpu.xmm, 0, sizeof(c->fpu.xmm));
	in = mk(0x1ae, 5 << 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[15].q[1], 0x5a5a5a5a5a5a5a5aull);
	/* Compacted with XSTATE_BV[1] = 0: MXCSR initialised. */
	*(uint64_t *)(img + 512) = 1;
	c->fpu.mxcsr = 0;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1f80);
}
END_TEST

START_TEST(t_mmx_emms)
{
	struct insn in;

	guest_load(FCW_INIT, vals, 3);
	x87_mmx_enter(c);
	ck_assert_uint_eq(x87_top(c), 0);
	ck_assert_uint_eq(c->fpu.ftw, 0);
	x87_mmx_write(c, 3, 0x1122334455667788ull);
	ck_assert_uint_eq(c->fpu.fpr[3].sexp, 0xffff);
	in = mk(0x177, 0);
	in.has_modrm = 0;
	in.len = 2;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.ftw, 0xffff);
	c->cr0 |= CR0_EM;
	ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

static Suite *x87_suite(void)
{
	Suite *s = suite_create("x87");
	TCase *t = tcase_create("core");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, t_diff_reg);
	tcase_add_test(t, t_diff_random);
	tcase_add_test(t, t_diff_mem);
	tcase_add_test(t, t_fcmov);
	tcase_add_test(t, t_nm_mf);
	tcase_add_test(t, t_stack_overflow);
	tcase_add_test(t, t_fstenv_vs_host);
	tcase_add_test(t, t_fsave_frstor);
	tcase_add_test(t, t_fxsave_layout);
	tcase_add_test(t, t_fxsave_vs_host);
	tcase_add_test(t, t_fault_precise);
	tcase_add_test(t, t_fxsave_amd);
	tcase_add_test(t, t_mxcsr);
	tcase_add_test(t, t_xsave);
	tcase_add_test(t, t_mmx_emms);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(x87_suite());
	int nf;

	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
