/*
 * tests/diff/diff_gen_simd.c — generator for MMX, SSE, SSE2, SSE3, SSSE3,
 * SSE4.1, SSE4.2, AES-NI and PCLMULQDQ: one table row per instruction form
 * (mandatory prefix, opcode map and byte, operand kind, memory size, feature)
 * and one emitter per operand kind. Memory operands are aligned to their size
 * (at most 16), so no form can fault on alignment. RCPxS/RSQRTxS results are
 * approximations: their destination is marked dead and never read again nor
 * compared.
 */
#include <stdio.h>
#include <string.h>

#include "tests/diff/diff_gen.h"

enum kind {
	K_XX,   /* xmm, xmm/m */
	K_MM,   /* mm, mm/m */
	K_XG,   /* xmm, r/m32|64 */
	K_GX,   /* r32|64, xmm/m */
	K_EX,   /* r/m32|64, xmm */
	K_MG,   /* mm, r/m32|64 */
	K_GM,   /* r/m32|64, mm */
	K_GMM,  /* r32, mm (register only) */
	K_XMM,  /* xmm, mm/m */
	K_MXX,  /* mm, xmm/m */
	K_XSH,  /* xmm shift by immediate: /digit */
	K_MSH,  /* mm shift by immediate: /digit */
	K_NONE, /* no operands (EMMS) */
	K_STM,  /* m32 only, /digit (STMXCSR) */
};

/* flags */
#define SF_MEM    0x01  /* memory form only */
#define SF_REG    0x02  /* register form only */
#define SF_W      0x04  /* REX.W selects a 64-bit GPR operand */
#define SF_APPROX 0x08  /* approximate result */
#define SF_FLAGS  0x10  /* writes all six arithmetic flags (defined) */
#define SF_XMM0   0x20  /* reads XMM0 implicitly */
#define SF_WX0    0x40  /* writes XMM0 */
#define SF_WCX    0x80  /* writes ECX */
#define SF_RAXDX  0x100 /* reads EAX/EDX (explicit-length string compares) */
#define SF_RDI    0x200 /* stores through [rDI] (MASKMOVQ/MASKMOVDQU) */

/* immediate */
enum {
	I_NONE,
	I_ANY,
	I_3,
	I_4
};

struct sform {
	const char *mn;
	uint8_t fam;
	uint8_t pfx; /* 0 none, 1 66, 2 F3, 3 F2 */
	uint8_t map, op;
	uint8_t kind;
	uint8_t msize;
	uint8_t imm;
	uint8_t digit;
	uint16_t flags;
	unsigned feat;
};

#define P0  0
#define P66 1
#define PF3 2
#define PF2 3

#define SSE(mn, pfx, op, k, ms, im, fl)                             \
	{                                                           \
		mn, FAM_SSE, pfx, 1, op, k, ms, im, 0, fl, FEAT_SSE \
	}
#define SSE2(mn, pfx, op, k, ms, im, fl)                              \
	{                                                             \
		mn, FAM_SSE2, pfx, 1, op, k, ms, im, 0, fl, FEAT_SSE2 \
	}
#define MMX(mn, op)                                                         \
	{ mn, FAM_MMX, P0, 1, op, K_MM, 8, I_NONE, 0, 0, FEAT_MMX },        \
	{                                                                   \
		mn, FAM_SSE2, P66, 1, op, K_XX, 16, I_NONE, 0, 0, FEAT_SSE2 \
	}
#define SSE3(mn, pfx, op, ms, fl)                                            \
	{                                                                    \
		mn, FAM_SSE3, pfx, 1, op, K_XX, ms, I_NONE, 0, fl, FEAT_SSE3 \
	}
#define SSSE3(mn, op)                                                         \
	{ mn, FAM_SSSE3, P0, 2, op, K_MM, 8, I_NONE, 0, 0, FEAT_SSSE3 },      \
	{                                                                     \
		mn, FAM_SSSE3, P66, 2, op, K_XX, 16, I_NONE, 0, 0, FEAT_SSSE3 \
	}
#define S41(mn, map, op, k, ms, im, fl)                                   \
	{                                                                 \
		mn, FAM_SSE41, P66, map, op, k, ms, im, 0, fl, FEAT_SSE41 \
	}

static const struct sform forms[] = {
	/* ---- SSE ---- */
	SSE("addps", P0, 0x58, K_XX, 16, I_NONE, 0),
	SSE("addss", PF3, 0x58, K_XX, 4, I_NONE, 0),
	SSE("subps", P0, 0x5c, K_XX, 16, I_NONE, 0),
	SSE("subss", PF3, 0x5c, K_XX, 4, I_NONE, 0),
	SSE("mulps", P0, 0x59, K_XX, 16, I_NONE, 0),
	SSE("mulss", PF3, 0x59, K_XX, 4, I_NONE, 0),
	SSE("divps", P0, 0x5e, K_XX, 16, I_NONE, 0),
	SSE("divss", PF3, 0x5e, K_XX, 4, I_NONE, 0),
	SSE("minps", P0, 0x5d, K_XX, 16, I_NONE, 0),
	SSE("minss", PF3, 0x5d, K_XX, 4, I_NONE, 0),
	SSE("maxps", P0, 0x5f, K_XX, 16, I_NONE, 0),
	SSE("maxss", PF3, 0x5f, K_XX, 4, I_NONE, 0),
	SSE("sqrtps", P0, 0x51, K_XX, 16, I_NONE, 0),
	SSE("sqrtss", PF3, 0x51, K_XX, 4, I_NONE, 0),
	SSE("rcpps", P0, 0x53, K_XX, 16, I_NONE, SF_APPROX),
	SSE("rcpss", PF3, 0x53, K_XX, 4, I_NONE, SF_APPROX),
	SSE("rsqrtps", P0, 0x52, K_XX, 16, I_NONE, SF_APPROX),
	SSE("rsqrtss", PF3, 0x52, K_XX, 4, I_NONE, SF_APPROX),
	SSE("andps", P0, 0x54, K_XX, 16, I_NONE, 0),
	SSE("andnps", P0, 0x55, K_XX, 16, I_NONE, 0),
	SSE("orps", P0, 0x56, K_XX, 16, I_NONE, 0),
	SSE("xorps", P0, 0x57, K_XX, 16, I_NONE, 0),
	SSE("cmpps", P0, 0xc2, K_XX, 16, I_3, 0),
	SSE("cmpss", PF3, 0xc2, K_XX, 4, I_3, 0),
	SSE("comiss", P0, 0x2f, K_XX, 4, I_NONE, SF_FLAGS),
	SSE("ucomiss", P0, 0x2e, K_XX, 4, I_NONE, SF_FLAGS),
	SSE("shufps", P0, 0xc6, K_XX, 16, I_ANY, 0),
	SSE("unpcklps", P0, 0x14, K_XX, 16, I_NONE, 0),
	SSE("unpckhps", P0, 0x15, K_XX, 16, I_NONE, 0),
	SSE("movaps", P0, 0x28, K_XX, 16, I_NONE, 0),
	SSE("movaps.st", P0, 0x29, K_XX, 16, I_NONE, 0),
	SSE("movups", P0, 0x10, K_XX, 16, I_NONE, 0),
	SSE("movups.st", P0, 0x11, K_XX, 16, I_NONE, 0),
	SSE("movss", PF3, 0x10, K_XX, 4, I_NONE, 0),
	SSE("movss.st", PF3, 0x11, K_XX, 4, I_NONE, 0),
	SSE("movlps/movhlps", P0, 0x12, K_XX, 8, I_NONE, 0),
	SSE("movlps.st", P0, 0x13, K_XX, 8, I_NONE, SF_MEM),
	SSE("movhps/movlhps", P0, 0x16, K_XX, 8, I_NONE, 0),
	SSE("movhps.st", P0, 0x17, K_XX, 8, I_NONE, SF_MEM),
	SSE("movntps", P0, 0x2b, K_XX, 16, I_NONE, SF_MEM),
	SSE("movmskps", P0, 0x50, K_GX, 16, I_NONE, SF_REG),
	SSE("cvtsi2ss", PF3, 0x2a, K_XG, 4, I_NONE, SF_W),
	SSE("cvtss2si", PF3, 0x2d, K_GX, 4, I_NONE, SF_W),
	SSE("cvttss2si", PF3, 0x2c, K_GX, 4, I_NONE, SF_W),
	SSE("cvtpi2ps", P0, 0x2a, K_XMM, 8, I_NONE, 0),
	SSE("cvtps2pi", P0, 0x2d, K_MXX, 8, I_NONE, 0),
	SSE("cvttps2pi", P0, 0x2c, K_MXX, 8, I_NONE, 0),
	{ "stmxcsr", FAM_SSE, P0, 1, 0xae, K_STM, 4, I_NONE, 3, SF_MEM, FEAT_SSE },
	{ "ldmxcsr", FAM_SSE, P0, 1, 0xae, K_STM, 4, I_NONE, 2, SF_MEM, FEAT_SSE },
	{ "maskmovq", FAM_SSE, P0, 1, 0xf7, K_MM, 8, I_NONE, 0, SF_REG | SF_RDI, FEAT_SSE },
	/* SSE integer extensions on MMX registers */
	{ "pavgb", FAM_SSE, P0, 1, 0xe0, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pavgw", FAM_SSE, P0, 1, 0xe3, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pmaxsw", FAM_SSE, P0, 1, 0xee, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pmaxub", FAM_SSE, P0, 1, 0xde, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pminsw", FAM_SSE, P0, 1, 0xea, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pminub", FAM_SSE, P0, 1, 0xda, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pmulhuw", FAM_SSE, P0, 1, 0xe4, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "psadbw", FAM_SSE, P0, 1, 0xf6, K_MM, 8, I_NONE, 0, 0, FEAT_SSE },
	{ "pshufw", FAM_SSE, P0, 1, 0x70, K_MM, 8, I_ANY, 0, 0, FEAT_SSE },
	{ "pextrw", FAM_SSE, P0, 1, 0xc5, K_GMM, 8, I_ANY, 0, SF_REG, FEAT_SSE },
	{ "pinsrw", FAM_SSE, P0, 1, 0xc4, K_MG, 2, I_ANY, 0, 0, FEAT_SSE },
	{ "pmovmskb", FAM_SSE, P0, 1, 0xd7, K_GMM, 8, I_NONE, 0, SF_REG, FEAT_SSE },
	{ "movntq", FAM_SSE, P0, 1, 0xe7, K_MM, 8, I_NONE, 0, SF_MEM, FEAT_SSE },

	/* ---- SSE2 floating point ---- */
	SSE2("addpd", P66, 0x58, K_XX, 16, I_NONE, 0),
	SSE2("addsd", PF2, 0x58, K_XX, 8, I_NONE, 0),
	SSE2("subpd", P66, 0x5c, K_XX, 16, I_NONE, 0),
	SSE2("subsd", PF2, 0x5c, K_XX, 8, I_NONE, 0),
	SSE2("mulpd", P66, 0x59, K_XX, 16, I_NONE, 0),
	SSE2("mulsd", PF2, 0x59, K_XX, 8, I_NONE, 0),
	SSE2("divpd", P66, 0x5e, K_XX, 16, I_NONE, 0),
	SSE2("divsd", PF2, 0x5e, K_XX, 8, I_NONE, 0),
	SSE2("minpd", P66, 0x5d, K_XX, 16, I_NONE, 0),
	SSE2("minsd", PF2, 0x5d, K_XX, 8, I_NONE, 0),
	SSE2("maxpd", P66, 0x5f, K_XX, 16, I_NONE, 0),
	SSE2("maxsd", PF2, 0x5f, K_XX, 8, I_NONE, 0),
	SSE2("sqrtpd", P66, 0x51, K_XX, 16, I_NONE, 0),
	SSE2("sqrtsd", PF2, 0x51, K_XX, 8, I_NONE, 0),
	SSE2("andpd", P66, 0x54, K_XX, 16, I_NONE, 0),
	SSE2("andnpd", P66, 0x55, K_XX, 16, I_NONE, 0),
	SSE2("orpd", P66, 0x56, K_XX, 16, I_NONE, 0),
	SSE2("xorpd", P66, 0x57, K_XX, 16, I_NONE, 0),
	SSE2("cmppd", P66, 0xc2, K_XX, 16, I_3, 0),
	SSE2("cmpsd", PF2, 0xc2, K_XX, 8, I_3, 0),
	SSE2("comisd", P66, 0x2f, K_XX, 8, I_NONE, SF_FLAGS),
	SSE2("ucomisd", P66, 0x2e, K_XX, 8, I_NONE, SF_FLAGS),
	SSE2("shufpd", P66, 0xc6, K_XX, 16, I_ANY, 0),
	SSE2("unpcklpd", P66, 0x14, K_XX, 16, I_NONE, 0),
	SSE2("unpckhpd", P66, 0x15, K_XX, 16, I_NONE, 0),
	SSE2("movapd", P66, 0x28, K_XX, 16, I_NONE, 0),
	SSE2("movapd.st", P66, 0x29, K_XX, 16, I_NONE, 0),
	SSE2("movupd", P66, 0x10, K_XX, 16, I_NONE, 0),
	SSE2("movupd.st", P66, 0x11, K_XX, 16, I_NONE, 0),
	SSE2("movsd", PF2, 0x10, K_XX, 8, I_NONE, 0),
	SSE2("movsd.st", PF2, 0x11, K_XX, 8, I_NONE, 0),
	SSE2("movlpd", P66, 0x12, K_XX, 8, I_NONE, SF_MEM),
	SSE2("movlpd.st", P66, 0x13, K_XX, 8, I_NONE, SF_MEM),
	SSE2("movhpd", P66, 0x16, K_XX, 8, I_NONE, SF_MEM),
	SSE2("movhpd.st", P66, 0x17, K_XX, 8, I_NONE, SF_MEM),
	SSE2("movntpd", P66, 0x2b, K_XX, 16, I_NONE, SF_MEM),
	SSE2("movmskpd", P66, 0x50, K_GX, 16, I_NONE, SF_REG),
	SSE2("cvtdq2ps", P0, 0x5b, K_XX, 16, I_NONE, 0),
	SSE2("cvtps2dq", P66, 0x5b, K_XX, 16, I_NONE, 0),
	SSE2("cvttps2dq", PF3, 0x5b, K_XX, 16, I_NONE, 0),
	SSE2("cvtdq2pd", PF3, 0xe6, K_XX, 8, I_NONE, 0),
	SSE2("cvtpd2dq", PF2, 0xe6, K_XX, 16, I_NONE, 0),
	SSE2("cvttpd2dq", P66, 0xe6, K_XX, 16, I_NONE, 0),
	SSE2("cvtps2pd", P0, 0x5a, K_XX, 8, I_NONE, 0),
	SSE2("cvtpd2ps", P66, 0x5a, K_XX, 16, I_NONE, 0),
	SSE2("cvtss2sd", PF3, 0x5a, K_XX, 4, I_NONE, 0),
	SSE2("cvtsd2ss", PF2, 0x5a, K_XX, 8, I_NONE, 0),
	SSE2("cvtsi2sd", PF2, 0x2a, K_XG, 4, I_NONE, SF_W),
	SSE2("cvtsd2si", PF2, 0x2d, K_GX, 8, I_NONE, SF_W),
	SSE2("cvttsd2si", PF2, 0x2c, K_GX, 8, I_NONE, SF_W),
	SSE2("cvtpi2pd", P66, 0x2a, K_XMM, 8, I_NONE, 0),
	SSE2("cvtpd2pi", P66, 0x2d, K_MXX, 16, I_NONE, 0),
	SSE2("cvttpd2pi", P66, 0x2c, K_MXX, 16, I_NONE, 0),
	/* ---- SSE2 integer ---- */
	SSE2("pshufd", P66, 0x70, K_XX, 16, I_ANY, 0),
	SSE2("pshufhw", PF3, 0x70, K_XX, 16, I_ANY, 0),
	SSE2("pshuflw", PF2, 0x70, K_XX, 16, I_ANY, 0),
	SSE2("punpcklqdq", P66, 0x6c, K_XX, 16, I_NONE, 0),
	SSE2("punpckhqdq", P66, 0x6d, K_XX, 16, I_NONE, 0),
	SSE2("movdqa", P66, 0x6f, K_XX, 16, I_NONE, 0),
	SSE2("movdqa.st", P66, 0x7f, K_XX, 16, I_NONE, 0),
	SSE2("movdqu", PF3, 0x6f, K_XX, 16, I_NONE, 0),
	SSE2("movdqu.st", PF3, 0x7f, K_XX, 16, I_NONE, 0),
	SSE2("movq", PF3, 0x7e, K_XX, 8, I_NONE, 0),
	SSE2("movq.st", P66, 0xd6, K_XX, 8, I_NONE, 0),
	SSE2("movd/q xmm,r/m", P66, 0x6e, K_XG, 4, I_NONE, SF_W),
	SSE2("movd/q r/m,xmm", P66, 0x7e, K_EX, 4, I_NONE, SF_W),
	SSE2("movq2dq", PF3, 0xd6, K_XMM, 8, I_NONE, SF_REG),
	SSE2("movdq2q", PF2, 0xd6, K_MXX, 8, I_NONE, SF_REG),
	SSE2("pmovmskb", P66, 0xd7, K_GX, 16, I_NONE, SF_REG),
	SSE2("pextrw", P66, 0xc5, K_GX, 16, I_ANY, SF_REG),
	SSE2("pinsrw", P66, 0xc4, K_XG, 2, I_ANY, 0),
	SSE2("movntdq", P66, 0xe7, K_XX, 16, I_NONE, SF_MEM),
	SSE2("maskmovdqu", P66, 0xf7, K_XX, 16, I_NONE, SF_REG | SF_RDI),
	SSE2("paddq.mm", P0, 0xd4, K_MM, 8, I_NONE, 0),
	SSE2("psubq.mm", P0, 0xfb, K_MM, 8, I_NONE, 0),
	SSE2("pmuludq.mm", P0, 0xf4, K_MM, 8, I_NONE, 0),
	{ "pslldq", FAM_SSE2, P66, 1, 0x73, K_XSH, 0, I_ANY, 7, SF_REG, FEAT_SSE2 },
	{ "psrldq", FAM_SSE2, P66, 1, 0x73, K_XSH, 0, I_ANY, 3, SF_REG, FEAT_SSE2 },
	{ "psrlw.i", FAM_SSE2, P66, 1, 0x71, K_XSH, 0, I_ANY, 2, SF_REG, FEAT_SSE2 },
	{ "psraw.i", FAM_SSE2, P66, 1, 0x71, K_XSH, 0, I_ANY, 4, SF_REG, FEAT_SSE2 },
	{ "psllw.i", FAM_SSE2, P66, 1, 0x71, K_XSH, 0, I_ANY, 6, SF_REG, FEAT_SSE2 },
	{ "psrld.i", FAM_SSE2, P66, 1, 0x72, K_XSH, 0, I_ANY, 2, SF_REG, FEAT_SSE2 },
	{ "psrad.i", FAM_SSE2, P66, 1, 0x72, K_XSH, 0, I_ANY, 4, SF_REG, FEAT_SSE2 },
	{ "pslld.i", FAM_SSE2, P66, 1, 0x72, K_XSH, 0, I_ANY, 6, SF_REG, FEAT_SSE2 },
	{ "psrlq.i", FAM_SSE2, P66, 1, 0x73, K_XSH, 0, I_ANY, 2, SF_REG, FEAT_SSE2 },
	{ "psllq.i", FAM_SSE2, P66, 1, 0x73, K_XSH, 0, I_ANY, 6, SF_REG, FEAT_SSE2 },

	/* ---- MMX (and their SSE2 xmm forms) ---- */
	MMX("punpcklbw", 0x60),
	MMX("punpcklwd", 0x61),
	MMX("punpckldq", 0x62),
	MMX("packsswb", 0x63),
	MMX("pcmpgtb", 0x64),
	MMX("pcmpgtw", 0x65),
	MMX("pcmpgtd", 0x66),
	MMX("packuswb", 0x67),
	MMX("punpckhbw", 0x68),
	MMX("punpckhwd", 0x69),
	MMX("punpckhdq", 0x6a),
	MMX("packssdw", 0x6b),
	MMX("pcmpeqb", 0x74),
	MMX("pcmpeqw", 0x75),
	MMX("pcmpeqd", 0x76),
	MMX("psrlw", 0xd1),
	MMX("psrld", 0xd2),
	MMX("psrlq", 0xd3),
	MMX("paddq", 0xd4),
	MMX("pmullw", 0xd5),
	MMX("psubusb", 0xd8),
	MMX("psubusw", 0xd9),
	MMX("pminub", 0xda),
	MMX("pand", 0xdb),
	MMX("paddusb", 0xdc),
	MMX("paddusw", 0xdd),
	MMX("pmaxub", 0xde),
	MMX("pandn", 0xdf),
	MMX("pavgb", 0xe0),
	MMX("psraw", 0xe1),
	MMX("psrad", 0xe2),
	MMX("pavgw", 0xe3),
	MMX("pmulhuw", 0xe4),
	MMX("pmulhw", 0xe5),
	MMX("psubsb", 0xe8),
	MMX("psubsw", 0xe9),
	MMX("pminsw", 0xea),
	MMX("por", 0xeb),
	MMX("paddsb", 0xec),
	MMX("paddsw", 0xed),
	MMX("pmaxsw", 0xee),
	MMX("pxor", 0xef),
	MMX("psllw", 0xf1),
	MMX("pslld", 0xf2),
	MMX("psllq", 0xf3),
	MMX("pmuludq", 0xf4),
	MMX("pmaddwd", 0xf5),
	MMX("psadbw", 0xf6),
	MMX("psubb", 0xf8),
	MMX("psubw", 0xf9),
	MMX("psubd", 0xfa),
	MMX("psubq", 0xfb),
	MMX("paddb", 0xfc),
	MMX("paddw", 0xfd),
	MMX("paddd", 0xfe),
	{ "movq mm,mm/m", FAM_MMX, P0, 1, 0x6f, K_MM, 8, I_NONE, 0, 0, FEAT_MMX },
	{ "movq mm/m,mm", FAM_MMX, P0, 1, 0x7f, K_MM, 8, I_NONE, 0, 0, FEAT_MMX },
	{ "movd/q mm,r/m", FAM_MMX, P0, 1, 0x6e, K_MG, 4, I_NONE, 0, SF_W, FEAT_MMX },
	{ "movd/q r/m,mm", FAM_MMX, P0, 1, 0x7e, K_GM, 4, I_NONE, 0, SF_W, FEAT_MMX },
	{ "emms", FAM_MMX, P0, 1, 0x77, K_NONE, 0, I_NONE, 0, 0, FEAT_MMX },
	{ "psrlw.i", FAM_MMX, P0, 1, 0x71, K_MSH, 0, I_ANY, 2, SF_REG, FEAT_MMX },
	{ "psraw.i", FAM_MMX, P0, 1, 0x71, K_MSH, 0, I_ANY, 4, SF_REG, FEAT_MMX },
	{ "psllw.i", FAM_MMX, P0, 1, 0x71, K_MSH, 0, I_ANY, 6, SF_REG, FEAT_MMX },
	{ "psrld.i", FAM_MMX, P0, 1, 0x72, K_MSH, 0, I_ANY, 2, SF_REG, FEAT_MMX },
	{ "psrad.i", FAM_MMX, P0, 1, 0x72, K_MSH, 0, I_ANY, 4, SF_REG, FEAT_MMX },
	{ "pslld.i", FAM_MMX, P0, 1, 0x72, K_MSH, 0, I_ANY, 6, SF_REG, FEAT_MMX },
	{ "psrlq.i", FAM_MMX, P0, 1, 0x73, K_MSH, 0, I_ANY, 2, SF_REG, FEAT_MMX },
	{ "psllq.i", FAM_MMX, P0, 1, 0x73, K_MSH, 0, I_ANY, 6, SF_REG, FEAT_MMX },

	/* ---- SSE3 ---- */
	SSE3("addsubpd", P66, 0xd0, 16, 0),
	SSE3("addsubps", PF2, 0xd0, 16, 0),
	SSE3("haddpd", P66, 0x7c, 16, 0),
	SSE3("haddps", PF2, 0x7c, 16, 0),
	SSE3("hsubpd", P66, 0x7d, 16, 0),
	SSE3("hsubps", PF2, 0x7d, 16, 0),
	SSE3("movddup", PF2, 0x12, 8, 0),
	SSE3("movshdup", PF3, 0x16, 16, 0),
	SSE3("movsldup", PF3, 0x12, 16, 0),
	SSE3("lddqu", PF2, 0xf0, 16, SF_MEM),

	/* ---- SSSE3 ---- */
	SSSE3("pshufb", 0x00),
	SSSE3("phaddw", 0x01),
	SSSE3("phaddd", 0x02),
	SSSE3("phaddsw", 0x03),
	SSSE3("pmaddubsw", 0x04),
	SSSE3("phsubw", 0x05),
	SSSE3("phsubd", 0x06),
	SSSE3("phsubsw", 0x07),
	SSSE3("psignb", 0x08),
	SSSE3("psignw", 0x09),
	SSSE3("psignd", 0x0a),
	SSSE3("pmulhrsw", 0x0b),
	SSSE3("pabsb", 0x1c),
	SSSE3("pabsw", 0x1d),
	SSSE3("pabsd", 0x1e),
	{ "palignr", FAM_SSSE3, P0, 3, 0x0f, K_MM, 8, I_ANY, 0, 0, FEAT_SSSE3 },
	{ "palignr", FAM_SSSE3, P66, 3, 0x0f, K_XX, 16, I_ANY, 0, 0, FEAT_SSSE3 },

	/* ---- SSE4.1 ---- */
	S41("pblendvb", 2, 0x10, K_XX, 16, I_NONE, SF_XMM0),
	S41("blendvps", 2, 0x14, K_XX, 16, I_NONE, SF_XMM0),
	S41("blendvpd", 2, 0x15, K_XX, 16, I_NONE, SF_XMM0),
	S41("ptest", 2, 0x17, K_XX, 16, I_NONE, SF_FLAGS),
	S41("pmovsxbw", 2, 0x20, K_XX, 8, I_NONE, 0),
	S41("pmovsxbd", 2, 0x21, K_XX, 4, I_NONE, 0),
	S41("pmovsxbq", 2, 0x22, K_XX, 2, I_NONE, 0),
	S41("pmovsxwd", 2, 0x23, K_XX, 8, I_NONE, 0),
	S41("pmovsxwq", 2, 0x24, K_XX, 4, I_NONE, 0),
	S41("pmovsxdq", 2, 0x25, K_XX, 8, I_NONE, 0),
	S41("pmuldq", 2, 0x28, K_XX, 16, I_NONE, 0),
	S41("pcmpeqq", 2, 0x29, K_XX, 16, I_NONE, 0),
	S41("movntdqa", 2, 0x2a, K_XX, 16, I_NONE, SF_MEM),
	S41("packusdw", 2, 0x2b, K_XX, 16, I_NONE, 0),
	S41("pmovzxbw", 2, 0x30, K_XX, 8, I_NONE, 0),
	S41("pmovzxbd", 2, 0x31, K_XX, 4, I_NONE, 0),
	S41("pmovzxbq", 2, 0x32, K_XX, 2, I_NONE, 0),
	S41("pmovzxwd", 2, 0x33, K_XX, 8, I_NONE, 0),
	S41("pmovzxwq", 2, 0x34, K_XX, 4, I_NONE, 0),
	S41("pmovzxdq", 2, 0x35, K_XX, 8, I_NONE, 0),
	S41("pminsb", 2, 0x38, K_XX, 16, I_NONE, 0),
	S41("pminsd", 2, 0x39, K_XX, 16, I_NONE, 0),
	S41("pminuw", 2, 0x3a, K_XX, 16, I_NONE, 0),
	S41("pminud", 2, 0x3b, K_XX, 16, I_NONE, 0),
	S41("pmaxsb", 2, 0x3c, K_XX, 16, I_NONE, 0),
	S41("pmaxsd", 2, 0x3d, K_XX, 16, I_NONE, 0),
	S41("pmaxuw", 2, 0x3e, K_XX, 16, I_NONE, 0),
	S41("pmaxud", 2, 0x3f, K_XX, 16, I_NONE, 0),
	S41("pmulld", 2, 0x40, K_XX, 16, I_NONE, 0),
	S41("phminposuw", 2, 0x41, K_XX, 16, I_NONE, 0),
	S41("roundps", 3, 0x08, K_XX, 16, I_4, 0),
	S41("roundpd", 3, 0x09, K_XX, 16, I_4, 0),
	S41("roundss", 3, 0x0a, K_XX, 4, I_4, 0),
	S41("roundsd", 3, 0x0b, K_XX, 8, I_4, 0),
	S41("blendps", 3, 0x0c, K_XX, 16, I_ANY, 0),
	S41("blendpd", 3, 0x0d, K_XX, 16, I_ANY, 0),
	S41("pblendw", 3, 0x0e, K_XX, 16, I_ANY, 0),
	S41("pextrb", 3, 0x14, K_EX, 1, I_ANY, 0),
	S41("pextrw.e", 3, 0x15, K_EX, 2, I_ANY, 0),
	S41("pextrd/q", 3, 0x16, K_EX, 4, I_ANY, SF_W),
	S41("extractps", 3, 0x17, K_EX, 4, I_ANY, 0),
	S41("pinsrb", 3, 0x20, K_XG, 1, I_ANY, 0),
	S41("insertps", 3, 0x21, K_XX, 4, I_ANY, 0),
	S41("pinsrd/q", 3, 0x22, K_XG, 4, I_ANY, SF_W),
	S41("dpps", 3, 0x40, K_XX, 16, I_ANY, 0),
	S41("dppd", 3, 0x41, K_XX, 16, I_ANY, 0),
	S41("mpsadbw", 3, 0x42, K_XX, 16, I_ANY, 0),

	/* ---- SSE4.2 ---- */
	{ "pcmpgtq", FAM_SSE42, P66, 2, 0x37, K_XX, 16, I_NONE, 0, 0, FEAT_SSE42 },
	{ "pcmpestrm", FAM_SSE42, P66, 3, 0x60, K_XX, 16, I_ANY, 0,
	  SF_FLAGS | SF_WX0 | SF_RAXDX | SF_W, FEAT_SSE42 },
	{ "pcmpestri", FAM_SSE42, P66, 3, 0x61, K_XX, 16, I_ANY, 0,
	  SF_FLAGS | SF_WCX | SF_RAXDX | SF_W, FEAT_SSE42 },
	{ "pcmpistrm", FAM_SSE42, P66, 3, 0x62, K_XX, 16, I_ANY, 0, SF_FLAGS | SF_WX0, FEAT_SSE42 },
	{ "pcmpistri", FAM_SSE42, P66, 3, 0x63, K_XX, 16, I_ANY, 0, SF_FLAGS | SF_WCX, FEAT_SSE42 },

	/* ---- AES-NI, PCLMULQDQ ---- */
	{ "aesimc", FAM_AES, P66, 2, 0xdb, K_XX, 16, I_NONE, 0, 0, FEAT_AES },
	{ "aesenc", FAM_AES, P66, 2, 0xdc, K_XX, 16, I_NONE, 0, 0, FEAT_AES },
	{ "aesenclast", FAM_AES, P66, 2, 0xdd, K_XX, 16, I_NONE, 0, 0, FEAT_AES },
	{ "aesdec", FAM_AES, P66, 2, 0xde, K_XX, 16, I_NONE, 0, 0, FEAT_AES },
	{ "aesdeclast", FAM_AES, P66, 2, 0xdf, K_XX, 16, I_NONE, 0, 0, FEAT_AES },
	{ "aeskeygenassist", FAM_AES, P66, 3, 0xdf, K_XX, 16, I_ANY, 0, 0, FEAT_AES },
	{ "pclmulqdq", FAM_AES, P66, 3, 0x44, K_XX, 16, I_ANY, 0, 0, FEAT_PCLMULQDQ },
};

#define NFORMS (sizeof(forms) / sizeof(forms[0]))

static int pick_xmm(struct gen *g)
{
	int n = g->mode == 64 ? 16 : 8;
	for (int t = 0; t < 32; t++) {
		int r = (int)rndn(g, (unsigned)n);
		if (!(g->xmm_dead >> r & 1))
			return r;
	}
	return -1;
}

/* Set-up instructions some forms need: a valid MXCSR image for LDMXCSR,
 * short string lengths for PCMPESTRx, a destination in the data area for
 * MASKMOVQ/MASKMOVDQU. */
static void glue_for(struct gen *g, const struct sform *f, const struct ins *in)
{
	g->glue = true;
	if (f->kind == K_STM && f->digit == 2) {
		uint32_t v = 0x1f80 | (uint32_t)rndn(g, 4) << 13 | (uint32_t)rndn(g, 64);
		if (rndn(g, 4) == 0)
			v |= 1u << 15;
		if (rndn(g, 4) == 0)
			v |= 1u << 6;
		struct ins mv = {
			.op = 0xc7, .modrm = 1, .mem = 1, .disp = in->disp, .immsz = 4, .imm = v
		};
		emit(g, &mv, "");
	}
	if ((f->flags & SF_RAXDX) && rndn(g, 4)) {
		for (int r = 0; r < 3; r += 2) {
			struct ins mv = { .op = 0xc7,
					  .modrm = 1,
					  .rm = (uint8_t)r,
					  .immsz = 4,
					  .w = g->mode == 64 };
			mv.imm = (uint32_t)((int)rndn(g, 41) - 20);
			emit(g, &mv, "");
		}
	}
	if (f->flags & SF_RDI) {
		struct ins mv = { .op = 0xb8,
				  .oprm = 1,
				  .rm = R_DI,
				  .immsz = 4,
				  .imm = DATA_VA + STR_AREA + rndn(g, 240) };
		emit(g, &mv, "");
	}
	g->glue = false;
}

/* Alignment of a memory operand: legacy SSE 16-byte operands must be
 * aligned except for the unaligned-load/store forms and the SSE4.2 string
 * compares; smaller operands need none (SDM Vol. 1 §11.6.8, §12.1.2). Half
 * of the unaligned ones are placed anywhere, so some cross the page boundary
 * at the data base. */
static int mem_align(const struct sform *f, int msize)
{
	static const char *const unaligned[] = { "movups",    "movups.st", "movupd",   "movupd.st",
						 "movdqu",    "movdqu.st", "lddqu",    "pcmpestrm",
						 "pcmpestri", "pcmpistrm", "pcmpistri" };
	if (!msize)
		return 1;
	if (msize < 16)
		return f->kind == K_STM ? 4 : 1;
	for (size_t i = 0; i < sizeof(unaligned) / sizeof(unaligned[0]); i++)
		if (!strcmp(f->mn, unaligned[i]))
			return 1;
	return 16;
}

static bool emit_form(struct gen *g, const struct sform *f)
{
	char name[40];
	struct ins in = { 0 };
	in.p66 = f->pfx == P66;
	in.rep = f->pfx == PF3 ? 0xf3 : f->pfx == PF2 ? 0xf2 : 0;
	in.map = f->map;
	in.op = f->op;
	in.modrm = 1;
	bool w = (f->flags & SF_W) && g->mode == 64 && rndn(g, 2);
	bool mem = !(f->flags & SF_REG) && ((f->flags & SF_MEM) || rndn(g, 3) == 0);
	int msize = f->msize;
	if (w && msize == 4)
		msize = 8;
	in.w = w;
	in.mem = mem;
	if (mem)
		in.disp = pick_disp(g, msize ? msize : 1, mem_align(f, msize));
	int x1 = pick_xmm(g), x2 = pick_xmm(g);
	if (x1 < 0 || x2 < 0)
		return false;
	int m1 = (int)rndn(g, 8), m2 = (int)rndn(g, 8);
	const char *gsz = w ? "64" : "32";
	switch (f->kind) {
	case K_XX:
		in.reg = (uint8_t)x1, in.rm = (uint8_t)x2;
		break;
	case K_MM:
		in.reg = (uint8_t)m1, in.rm = (uint8_t)m2;
		break;
	case K_XG:
		in.reg = (uint8_t)x1, in.rm = (uint8_t)pick_gpr(g);
		break;
	case K_GX:
		in.reg = (uint8_t)pick_gpr(g), in.rm = (uint8_t)x2;
		break;
	case K_EX:
		in.reg = (uint8_t)x1, in.rm = (uint8_t)pick_gpr(g);
		break;
	case K_MG:
	case K_GM:
		in.reg = (uint8_t)m1, in.rm = (uint8_t)pick_gpr(g);
		break;
	case K_GMM:
		in.reg = (uint8_t)pick_gpr(g), in.rm = (uint8_t)m2;
		break;
	case K_XMM:
		in.reg = (uint8_t)x1, in.rm = (uint8_t)m2;
		break;
	case K_MXX:
		in.reg = (uint8_t)m1, in.rm = (uint8_t)x2;
		break;
	case K_XSH:
		in.reg = f->digit, in.rm = (uint8_t)x2;
		break;
	case K_MSH:
		in.reg = f->digit, in.rm = (uint8_t)m2;
		break;
	case K_STM:
		in.reg = f->digit;
		break;
	default:
		in.modrm = 0;
		break;
	}
	if (f->imm != I_NONE) {
		in.immsz = 1;
		in.imm = f->imm == I_3 ? rndn(g, 8) : f->imm == I_4 ? rndn(g, 16) : rndn(g, 256);
	}
	snprintf(name, sizeof(name), "%s%s%s%s", f->mn,
		 f->kind == K_MM || f->kind == K_MSH ? " mm" : "", mem ? " m" : "",
		 (f->flags & SF_W) ? gsz : "");
	if (form_excluded(name))
		return false;
	if (f->flags & SF_XMM0 && (g->xmm_dead & 1))
		return false;
	glue_for(g, f, &in);
	/* only XMM0 is implicit, and only for the forms that say so */
	if ((f->flags & SF_APPROX)) {
		if (!emit(g, &in, name))
			return false;
		g->xmm_dead |= 1u << in.reg;
		return true;
	}
	if (!emit(g, &in, name))
		return false;
	if (f->flags & SF_FLAGS)
		flags_write(g, F_ARITH, 0);
	return true;
}

bool gen_simd(struct gen *g, int fam)
{
	for (int t = 0; t < 64; t++) {
		const struct sform *f = &forms[rndn(g, NFORMS)];
		if (f->fam != fam || !model_has(g->model, f->feat))
			continue;
		return emit_form(g, f);
	}
	return false;
}
