/*
 * cpu/decode_attr.c — the opcode maps as data: which opcodes exist, their
 * ModRM/immediate layout and mode rules (Intel SDM Vol. 2 Appendix A), plus
 * the ModRM-dependent validity of opcode groups (Table A-6) and x87 (A.5).
 * Semantics are elsewhere; this file only answers "how long is it and does
 * the encoding exist". Uses GNU range designators ([a ... b]).
 */
#include "cpu/decode_attr.h"

#include "cpu/insn.h"

#define M   A_MODRM
#define Ib  IK_B
#define Iw  IK_W
#define Iz  IK_Z
#define ALU M, M, M, M, Ib, Iz /* op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz */

/* Mandatory-prefix masks of SSE-style opcodes. */
#define P_N    A_MPV(MPV_NONE)
#define P_66   A_MPV(MPV_66)
#define P_F3   A_MPV(MPV_F3)
#define P_F2   A_MPV(MPV_F2)
#define P_N66  (P_N | P_66)
#define P_ALL  (P_N | P_66 | P_F3 | P_F2)
#define SSE(p) (M | (p))

const uint32_t attr_tab[4][256] = {
	/* ---- one-byte map (Table A-2) ---- */
	[0] = {
		[0x00] = ALU, [0x08] = ALU, [0x10] = ALU, [0x18] = ALU,
		[0x20] = ALU, [0x28] = ALU, [0x30] = ALU, [0x38] = ALU,
		[0x06] = A_I64, [0x07] = A_I64,		/* PUSH/POP ES */
		[0x0e] = A_I64,				/* PUSH CS; 0F = escape */
		[0x16] = A_I64, [0x17] = A_I64,		/* PUSH/POP SS */
		[0x1e] = A_I64, [0x1f] = A_I64,		/* PUSH/POP DS */
		[0x27] = A_I64, [0x2f] = A_I64,		/* DAA, DAS */
		[0x37] = A_I64, [0x3f] = A_I64,		/* AAA, AAS */
		/* 26/2E/36/3E/64-67/F0/F2/F3 are prefixes (decode.c) */
		[0x40 ... 0x4f] = 0,			/* INC/DEC (REX in 64-bit) */
		[0x50 ... 0x5f] = A_D64,		/* PUSH/POP r */
		[0x60] = A_I64, [0x61] = A_I64,		/* PUSHA/POPA */
		[0x62] = M | A_I64 | A_MEM,		/* BOUND (EVEX in 64-bit) */
		[0x63] = M,				/* ARPL / MOVSXD */
		[0x68] = Iz | A_D64, [0x69] = M | Iz,	/* PUSH Iz, IMUL Gv,Ev,Iz */
		[0x6a] = Ib | A_D64, [0x6b] = M | Ib,	/* PUSH Ib, IMUL Gv,Ev,Ib */
		[0x6c ... 0x6f] = 0,			/* INS/OUTS */
		[0x70 ... 0x7f] = Ib | A_F64,		/* Jcc Jb */
		[0x80] = M | Ib, [0x81] = M | Iz,
		[0x82] = M | Ib | A_I64, [0x83] = M | Ib,
		[0x84 ... 0x8b] = M,			/* TEST, XCHG, MOV */
		[0x8c] = M | A_GRP, [0x8d] = M | A_MEM, [0x8e] = M | A_GRP, /* Sreg moves */
		[0x8f] = M | A_D64 | A_GRP,		/* Grp1A: POP Ev (/0) */
		[0x90 ... 0x99] = 0,			/* XCHG/NOP/PAUSE, CBW, CWD */
		[0x9a] = IK_AP | A_I64,			/* CALLF Ap */
		[0x9b] = 0, [0x9c] = A_D64, [0x9d] = A_D64, [0x9e] = 0, [0x9f] = 0,
		[0xa0 ... 0xa3] = IK_MOFFS,		/* MOV AL/rAX <-> moffs */
		[0xa4 ... 0xa7] = 0, [0xa8] = Ib, [0xa9] = Iz, [0xaa ... 0xaf] = 0,
		[0xb0 ... 0xb7] = Ib, [0xb8 ... 0xbf] = IK_V,
		[0xc0] = M | Ib, [0xc1] = M | Ib,	/* Grp2 (/6 = SHL alias) */
		[0xc2] = Iw | A_F64, [0xc3] = A_F64,	/* RET near */
		[0xc4] = M | A_I64 | A_MEM,		/* LES (VEX3 otherwise) */
		[0xc5] = M | A_I64 | A_MEM,		/* LDS (VEX2 otherwise) */
		[0xc6] = M | Ib | A_GRP,		/* Grp11: MOV Eb,Ib; XABORT */
		[0xc7] = M | Iz | A_GRP,		/* Grp11: MOV Ev,Iz; XBEGIN */
		[0xc8] = IK_ENTER | A_D64, [0xc9] = A_D64,
		[0xca] = Iw, [0xcb] = 0, [0xcc] = 0, [0xcd] = Ib,
		[0xce] = A_I64, [0xcf] = 0,		/* INTO, IRET */
		[0xd0 ... 0xd3] = M,			/* Grp2 */
		[0xd4] = Ib | A_I64, [0xd5] = Ib | A_I64, /* AAM, AAD */
		[0xd6] = A_I64,			/* SALC: blank in the SDM map, but
					   executed by Intel CPUs outside 64-bit mode */
		[0xd7] = 0,				/* XLAT */
		[0xd8 ... 0xdf] = M | A_GRP,		/* x87 escapes */
		[0xe0 ... 0xe3] = Ib | A_F64,		/* LOOPcc, JrCXZ */
		[0xe4 ... 0xe7] = Ib,			/* IN/OUT imm8 */
		[0xe8] = Iz | A_F64, [0xe9] = Iz | A_F64, /* CALL/JMP Jz */
		[0xea] = IK_AP | A_I64, [0xeb] = Ib | A_F64,
		[0xec ... 0xef] = 0,
		[0xf1] = 0, [0xf4] = 0, [0xf5] = 0,	/* INT1, HLT, CMC */
		[0xf6] = M | IK_GRP3B, [0xf7] = M | IK_GRP3Z,
		[0xf8 ... 0xfd] = 0,
		[0xfe] = M | A_GRP,			/* Grp4 */
		[0xff] = M | A_GRP,			/* Grp5 */
	},
	/* ---- two-byte map 0F (Table A-3) ---- */
	[1] = {
		[0x00] = M | A_GRP,			/* Grp6 */
		[0x01] = M | A_GRP,			/* Grp7 */
		[0x02] = M, [0x03] = M,			/* LAR, LSL */
		[0x04] = A_UD,
		[0x05] = 0, [0x06] = 0, [0x07] = 0,	/* SYSCALL, CLTS, SYSRET */
		[0x08] = 0, [0x09] = 0,			/* INVD, WBINVD */
		[0x0a] = A_UD, [0x0b] = 0,		/* UD2 */
		[0x0c] = A_UD,
		[0x0d] = M | A_MEM,			/* PREFETCH/PREFETCHW (AMD) */
		[0x0e] = 0,				/* FEMMS */
		[0x0f] = M | A_3DNOW,			/* 3DNow! */
		[0x10] = SSE(P_ALL), [0x11] = SSE(P_ALL),
		[0x12] = SSE(P_ALL) | A_GRP, [0x13] = SSE(P_N66) | A_MEM,
		[0x14] = SSE(P_N66), [0x15] = SSE(P_N66),
		[0x16] = SSE(P_N66 | P_F3) | A_GRP, [0x17] = SSE(P_N66) | A_MEM,
		[0x18] = M,				/* Grp16 prefetch / hint NOP */
		[0x19 ... 0x1f] = M,			/* hint NOPs, ENDBR, NOP Ev */
		[0x20 ... 0x23] = M | A_CRDR | A_F64,	/* MOV CR/DR */
		[0x24 ... 0x27] = A_UD,
		[0x28] = SSE(P_N66), [0x29] = SSE(P_N66),
		[0x2a] = SSE(P_ALL),
		[0x2b] = SSE(P_N66) | A_MEM,
		[0x2c] = SSE(P_ALL), [0x2d] = SSE(P_ALL),
		[0x2e] = SSE(P_N66), [0x2f] = SSE(P_N66),
		[0x30 ... 0x35] = 0,	/* WRMSR RDTSC RDMSR RDPMC SYSENTER SYSEXIT */
		[0x36] = A_UD, [0x37] = 0,		/* GETSEC */
		[0x38 ... 0x3f] = A_UD,			/* 38/3A escapes handled in decode.c */
		[0x40 ... 0x4f] = M,			/* CMOVcc */
		[0x50] = SSE(P_N66) | A_REG,
		[0x51] = SSE(P_ALL),
		[0x52] = SSE(P_N | P_F3), [0x53] = SSE(P_N | P_F3),
		[0x54 ... 0x57] = SSE(P_N66),
		[0x58 ... 0x5a] = SSE(P_ALL),
		[0x5b] = SSE(P_N66 | P_F3),
		[0x5c ... 0x5f] = SSE(P_ALL),
		[0x60 ... 0x6b] = SSE(P_N66),
		[0x6c] = SSE(P_66), [0x6d] = SSE(P_66),
		[0x6e] = SSE(P_N66),
		[0x6f] = SSE(P_N66 | P_F3),
		[0x70] = SSE(P_ALL) | Ib,
		[0x71 ... 0x73] = SSE(P_N66) | Ib | A_REG | A_GRP, /* Grp12-14 */
		[0x74 ... 0x76] = SSE(P_N66),
		[0x77] = P_N,				/* EMMS */
		[0x78] = SSE(P_N | P_66 | P_F2) | IK_SSE4A | A_GRP, /* VMREAD, EXTRQ, INSERTQ */
		[0x79] = SSE(P_N | P_66 | P_F2) | A_GRP,	/* VMWRITE, EXTRQ, INSERTQ */
		[0x7a] = A_UD, [0x7b] = A_UD,
		[0x7c] = SSE(P_66 | P_F2), [0x7d] = SSE(P_66 | P_F2),
		[0x7e] = SSE(P_N66 | P_F3), [0x7f] = SSE(P_N66 | P_F3),
		[0x80 ... 0x8f] = Iz | A_F64,		/* Jcc Jz */
		[0x90 ... 0x9f] = M,			/* SETcc */
		[0xa0] = A_D64, [0xa1] = A_D64,		/* PUSH/POP FS */
		[0xa2] = 0, [0xa3] = M,			/* CPUID, BT */
		[0xa4] = M | Ib, [0xa5] = M,		/* SHLD */
		[0xa6] = A_UD, [0xa7] = A_UD,
		[0xa8] = A_D64, [0xa9] = A_D64,		/* PUSH/POP GS */
		[0xaa] = 0, [0xab] = M,			/* RSM, BTS */
		[0xac] = M | Ib, [0xad] = M,		/* SHRD */
		[0xae] = M | A_GRP,			/* Grp15 */
		[0xaf] = M,				/* IMUL */
		[0xb0] = M, [0xb1] = M,			/* CMPXCHG */
		[0xb2] = M | A_MEM, [0xb3] = M,		/* LSS, BTR */
		[0xb4] = M | A_MEM, [0xb5] = M | A_MEM,	/* LFS, LGS */
		[0xb6] = M, [0xb7] = M,			/* MOVZX */
		[0xb8] = SSE(P_F3),			/* POPCNT (JMPE: IA-64 only) */
		[0xb9] = M,				/* Grp10 UD1 */
		[0xba] = M | Ib | A_GRP,		/* Grp8 */
		[0xbb] = M,				/* BTC */
		[0xbc] = M, [0xbd] = M,			/* BSF/TZCNT, BSR/LZCNT */
		[0xbe] = M, [0xbf] = M,			/* MOVSX */
		[0xc0] = M, [0xc1] = M,			/* XADD */
		[0xc2] = SSE(P_ALL) | Ib,
		[0xc3] = SSE(P_N) | A_MEM,		/* MOVNTI */
		[0xc4] = SSE(P_N66) | Ib,
		[0xc5] = SSE(P_N66) | Ib | A_REG,
		[0xc6] = SSE(P_N66) | Ib,
		[0xc7] = M | A_GRP,			/* Grp9 */
		[0xc8 ... 0xcf] = 0,			/* BSWAP */
		[0xd0] = SSE(P_66 | P_F2),
		[0xd1 ... 0xd5] = SSE(P_N66),
		[0xd6] = SSE(P_66 | P_F3 | P_F2) | A_GRP,
		[0xd7] = SSE(P_N66) | A_REG,
		[0xd8 ... 0xdf] = SSE(P_N66),
		[0xe0 ... 0xe5] = SSE(P_N66),
		[0xe6] = SSE(P_66 | P_F3 | P_F2),
		[0xe7] = SSE(P_N66) | A_MEM,
		[0xe8 ... 0xef] = SSE(P_N66),
		[0xf0] = SSE(P_F2) | A_MEM,		/* LDDQU */
		[0xf1 ... 0xf6] = SSE(P_N66),
		[0xf7] = SSE(P_N66) | A_REG,		/* MASKMOVQ/MASKMOVDQU */
		[0xf8 ... 0xfe] = SSE(P_N66),
		[0xff] = M,				/* UD0 */
	},
	/* ---- three-byte map 0F 38 (Table A-4); 0 = undefined ---- */
	[2] = {
		[0x00 ... 0x0b] = SSE(P_N66),		/* PSHUFB .. PMULHRSW */
		[0x10] = SSE(P_66), [0x14] = SSE(P_66), [0x15] = SSE(P_66),
		[0x17] = SSE(P_66),
		[0x1c ... 0x1e] = SSE(P_N66),		/* PABSB/W/D */
		[0x20 ... 0x25] = SSE(P_66),		/* PMOVSX */
		[0x28 ... 0x29] = SSE(P_66),
		[0x2a] = SSE(P_66) | A_MEM,		/* MOVNTDQA */
		[0x2b] = SSE(P_66),
		[0x30 ... 0x35] = SSE(P_66),		/* PMOVZX */
		[0x37 ... 0x41] = SSE(P_66),
		[0x80 ... 0x82] = SSE(P_66) | A_MEM,	/* INVEPT, INVVPID, INVPCID */
		[0xc8 ... 0xcd] = SSE(P_N),		/* SHA */
		[0xdb ... 0xdf] = SSE(P_66),		/* AES-NI */
		[0xf0] = SSE(P_N66 | P_F2) | A_GRP,	/* MOVBE (mem) / CRC32 */
		[0xf1] = SSE(P_N66 | P_F2) | A_GRP,
		[0xf6] = SSE(P_66 | P_F3),		/* ADCX, ADOX */
	},
	/* ---- three-byte map 0F 3A (Table A-5): all take Ib; 0 = undefined ---- */
	[3] = {
		[0x08 ... 0x0e] = SSE(P_66) | Ib,	/* ROUNDxx, BLENDxx */
		[0x0f] = SSE(P_N66) | Ib,		/* PALIGNR */
		[0x14 ... 0x17] = SSE(P_66) | Ib,	/* PEXTRB/W/D, EXTRACTPS */
		[0x20 ... 0x22] = SSE(P_66) | Ib,	/* PINSRB, INSERTPS, PINSRD */
		[0x40 ... 0x42] = SSE(P_66) | Ib,	/* DPPS, DPPD, MPSADBW */
		[0x44] = SSE(P_66) | Ib,		/* PCLMULQDQ */
		[0x60 ... 0x63] = SSE(P_66) | Ib,	/* PCMPxSTRx */
		[0xcc] = SSE(P_N) | Ib,			/* SHA1RNDS4 */
		[0xdf] = SSE(P_66) | Ib,		/* AESKEYGENASSIST */
	},
};

/* x87 register forms (mod == 3) that exist, one bit per rm for each
 * (escape, reg) pair (SDM Vol. 2 Tables A-8 .. A-22). Blank cells that every
 * x87 since the 387 executes as aliases are accepted too: D9 D8-DF (FSTP),
 * DC D0-DF (FCOM/FCOMP), DD C8-CF (FXCH), DE D0-D7 (FCOMP), DF C0-DF
 * (FFREEP, FXCH, FSTP), DB E0/E1/E4 (FENI/FDISI/FSETPM, no-ops). */
static const uint8_t x87_reg_valid[8][8] = {
	/* D8 */ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	/* D9: FLD, FXCH, FNOP (D0), FSTP alias, FCHS/FABS/FTST/FXAM, consts, misc, misc */
	/* D9 */ { 0xff, 0xff, 0x01, 0xff, 0x33, 0x7f, 0xff, 0xff },
	/* DA: FCMOVB/E/BE/U, -, FUCOMPP (E9) */
	/* DA */ { 0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00 },
	/* DB: FCMOVNB..NU, FENI FDISI FNCLEX FNINIT FSETPM, FUCOMI, FCOMI */
	/* DB */ { 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 },
	/* DC */ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	/* DD: FFREE, FXCH alias, FST, FSTP, FUCOM, FUCOMP */
	/* DD */ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
	/* DE: FADDP, FMULP, FCOMP alias, FCOMPP (D9), FSUBRP, FSUBP, FDIVRP, FDIVP */
	/* DE */ { 0xff, 0xff, 0xff, 0x02, 0xff, 0xff, 0xff, 0xff },
	/* DF: FFREEP, FXCH, FSTP, FSTP aliases, FNSTSW AX (E0), FUCOMIP, FCOMIP */
	/* DF */ { 0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0x00 },
};

/* x87 memory forms that exist: one bit per reg. */
static const uint8_t x87_mem_valid[8] = {
	0xff, 0xfd, 0xff, 0xaf, 0xff, 0xdf, 0xff, 0xff,
};

bool attr_grp_valid(unsigned op, uint8_t modrm, unsigned mp, bool mode64)
{
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	bool isreg = mod == 3;

	switch (op) {
	case 0x08f: /* Grp1A: only /0 POP Ev (others are XOP on AMD) */
		return reg == 0;
	case 0x08c:
	case 0x08e: /* MOV Ev,Sreg / Sreg,Ew: Sreg 6 and 7 do not
		       exist (8E /1, MOV CS, decodes; it #UDs when run) */
		return reg <= 5;
	case 0x0c6: /* Grp11: MOV Eb,Ib; C6 F8 ib = XABORT */
		return reg == 0 || modrm == 0xf8;
	case 0x0c7: /* MOV Ev,Iz; C7 F8 cw/cd = XBEGIN */
		return reg == 0 || modrm == 0xf8;
	case 0x0d8:
	case 0x0d9:
	case 0x0da:
	case 0x0db:
	case 0x0dc:
	case 0x0dd:
	case 0x0de:
	case 0x0df:
		if (isreg)
			return (x87_reg_valid[op & 7][reg] >> rm) & 1;
		return (x87_mem_valid[op & 7] >> reg) & 1;
	case 0x0fe: /* Grp4: INC/DEC Eb */
		return reg <= 1;
	case 0x0ff: /* Grp5: /3 and /5 (far) need memory, /7 blank */
		if (reg == 7)
			return false;
		return !(isreg && (reg == 3 || reg == 5));
	case 0x100: /* Grp6: SLDT STR LLDT LTR VERR VERW */
		return reg <= 5;
	case 0x101: /* Grp7 */
		if (!isreg)
			return reg != 5;
		switch (reg) {
		case 0:
			return rm >= 1 && rm <= 4; /* VMCALL..VMXOFF */
		case 1:
			return rm <= 3 || rm == 7; /* MONITOR MWAIT CLAC STAC ENCLS */
		case 2:
			return rm <= 1 || rm >= 4; /* XGETBV XSETBV VMFUNC XEND XTEST ENCLU */
		case 3:
			return true; /* SVM: VMRUN .. INVLPGA */
		case 4:
			return true; /* SMSW */
		case 5:
			return rm == 6 || rm == 7; /* RDPKRU, WRPKRU */
		case 6:
			return true; /* LMSW */
		default:
			/* SWAPGS (F8; its handler #UDs outside 64-bit mode, as
			 * Capstone decodes it everywhere), RDTSCP, MONITORX,
			 * MWAITX, CLZERO */
			return rm <= 4;
		}
	case 0x112: /* MOVLPS/MOVHLPS, MOVLPD (mem), MOVSLDUP, MOVDDUP */
	case 0x116: /* MOVHPS/MOVLHPS, MOVHPD (mem), MOVSHDUP */
		return mp != MP_66 || !isreg;
	case 0x171:
	case 0x172: /* Grp12/13: PSRL/PSRA/PSLL imm */
		return reg == 2 || reg == 4 || reg == 6;
	case 0x173: /* Grp14: PSRLQ, PSRLDQ (66), PSLLQ, PSLLDQ (66) */
		return reg == 2 || reg == 6 || ((reg == 3 || reg == 7) && mp == MP_66);
	case 0x178: /* VMREAD Ey,Gy; EXTRQ xmm,ib,ib (66, /0 reg); INSERTQ xmm,xmm,ib,ib (F2, reg)
		     */
		if (mp == MP_NONE)
			return true;
		return isreg; /* Capstone and hardware ignore EXTRQ's ModRM.reg */
	case 0x179:           /* VMWRITE Gy,Ey; EXTRQ / INSERTQ xmm,xmm (register forms) */
		return mp == MP_NONE || isreg;
	case 0x1ae: /* Grp15 */
		if (!isreg) {
			if (mp == MP_NONE)
				return true; /* FXSAVE FXRSTOR LDMXCSR STMXCSR XSAVE XRSTOR XSAVEOPT
						CLFLUSH */
			if (mp == MP_66)
				return reg == 6 || reg == 7; /* CLWB, CLFLUSHOPT */
			return false;
		}
		if (mp == MP_NONE)
			return reg >= 5; /* LFENCE MFENCE SFENCE */
		if (mp == MP_F3)
			return reg <= 3 && mode64; /* RD/WR FS/GS BASE */
		return false;
	case 0x1ba: /* Grp8: BT BTS BTR BTC Ev,Ib */
		return reg >= 4;
	case 0x1c7: /* Grp9 */
		if (!isreg) {
			switch (reg) {
			case 1:
				return mp != MP_F2 && mp != MP_F3; /* CMPXCHG8B/16B */
			case 3:
			case 4:
			case 5:
				return mp == MP_NONE; /* XRSTORS XSAVEC XSAVES */
			case 6:
				return mp != MP_F2; /* VMPTRLD, VMCLEAR, VMXON */
			case 7:
				return mp == MP_NONE; /* VMPTRST */
			default:
				return false;
			}
		}
		if (reg == 6)
			return mp != MP_F2 && mp != MP_F3; /* RDRAND */
		if (reg == 7)
			return mp != MP_F2; /* RDSEED, RDPID (F3) */
		return false;
	case 0x1d6: /* MOVQ (66), MOVQ2DQ (F3, reg), MOVDQ2Q (F2, reg) */
		return mp == MP_66 || isreg;
	case 0x2f0:
	case 0x2f1: /* MOVBE needs memory; CRC32 (F2) any */
		return mp == MP_F2 || !isreg;
	}
	return true;
}

bool attr_3dnow_valid(uint8_t s)
{
	/* AMD APM Vol. 3 Table A-15 (3DNow! suffixes, incl. the Athlon and
	 * Geode extensions). */
	switch (s) {
	case 0x0c:
	case 0x0d:
	case 0x1c:
	case 0x1d:
	case 0x8a:
	case 0x8e:
	case 0x90:
	case 0x94:
	case 0x96:
	case 0x97:
	case 0x9a:
	case 0x9e:
	case 0xa0:
	case 0xa4:
	case 0xa6:
	case 0xa7:
	case 0xaa:
	case 0xae:
	case 0xb0:
	case 0xb4:
	case 0xb6:
	case 0xb7:
	case 0xbb:
	case 0xbf:
		return true;
	}
	return false;
}

bool attr_lock_valid(unsigned op, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;

	if ((modrm >> 6) == 3)
		return false; /* LOCK needs a memory destination */
	switch (op) {
	case 0x000:
	case 0x001:
	case 0x008:
	case 0x009:
	case 0x010:
	case 0x011:
	case 0x018:
	case 0x019:
	case 0x020:
	case 0x021:
	case 0x028:
	case 0x029:
	case 0x030:
	case 0x031: /* ADD OR ADC SBB AND SUB XOR Ex,Gx */
	case 0x086:
	case 0x087: /* XCHG */
	case 0x1ab:
	case 0x1b3:
	case 0x1bb: /* BTS BTR BTC Ev,Gv */
	case 0x1b0:
	case 0x1b1: /* CMPXCHG */
	case 0x1c0:
	case 0x1c1: /* XADD */
		return true;
	case 0x080:
	case 0x081:
	case 0x082:
	case 0x083:
		return reg != 7; /* Grp1 except CMP */
	case 0x0f6:
	case 0x0f7:
		return reg == 2 || reg == 3; /* NOT, NEG */
	case 0x0fe:
	case 0x0ff:
		return reg <= 1; /* INC, DEC */
	case 0x1ba:
		return reg >= 5; /* BTS BTR BTC Ev,Ib */
	case 0x1c7:
		return reg == 1; /* CMPXCHG8B/16B */
	}
	return false;
}

#define V_N   MPV_NONE
#define V_66  MPV_66
#define V_F3  MPV_F3
#define V_F2  MPV_F2
#define V_ALL (V_N | V_66 | V_F3 | V_F2)

const uint8_t vex_tab[3][256] = {
	/* VEX.0F */
	[0] = {
		[0x10] = V_ALL, [0x11] = V_ALL,
		[0x12] = V_ALL | VX_GRP, [0x13] = V_N | V_66 | VX_MEM,
		[0x14] = V_N | V_66, [0x15] = V_N | V_66,
		[0x16] = V_N | V_66 | V_F3 | VX_GRP, [0x17] = V_N | V_66 | VX_MEM,
		[0x28] = V_N | V_66, [0x29] = V_N | V_66,
		[0x2a] = V_F3 | V_F2, [0x2b] = V_N | V_66 | VX_MEM,
		[0x2c] = V_F3 | V_F2, [0x2d] = V_F3 | V_F2,
		[0x2e] = V_N | V_66, [0x2f] = V_N | V_66,
		/* AVX-512 opmask instructions are VEX encoded */
		[0x41] = V_N | V_66 | VX_REG, [0x42] = V_N | V_66 | VX_REG,
		[0x44] = V_N | V_66 | VX_REG, [0x45] = V_N | V_66 | VX_REG,
		[0x46] = V_N | V_66 | VX_REG, [0x47] = V_N | V_66 | VX_REG,
		[0x4a] = V_N | V_66 | VX_REG, [0x4b] = V_N | V_66 | VX_REG,
		[0x50] = V_N | V_66 | VX_REG, [0x51] = V_ALL,
		[0x52] = V_N | V_F3, [0x53] = V_N | V_F3,
		[0x54 ... 0x57] = V_N | V_66,
		[0x58 ... 0x5a] = V_ALL, [0x5b] = V_N | V_66 | V_F3,
		[0x5c ... 0x5f] = V_ALL,
		[0x60 ... 0x6e] = V_66, [0x6f] = V_66 | V_F3,
		[0x70] = V_66 | V_F3 | V_F2,
		[0x71 ... 0x73] = V_66 | VX_REG | VX_GRP,
		[0x74 ... 0x76] = V_66,
		[0x77] = V_N | VX_NOMODRM,
		[0x7c] = V_66 | V_F2, [0x7d] = V_66 | V_F2,
		[0x7e] = V_66 | V_F3, [0x7f] = V_66 | V_F3,
		[0x90] = V_N | V_66, [0x91] = V_N | V_66 | VX_MEM,
		[0x92] = V_N | V_66 | V_F2 | VX_REG, [0x93] = V_N | V_66 | V_F2 | VX_REG,
		[0x98] = V_N | V_66 | VX_REG, [0x99] = V_N | V_66 | VX_REG,
		[0xae] = V_N | VX_MEM | VX_GRP,
		[0xc2] = V_ALL,
		[0xc4] = V_66, [0xc5] = V_66 | VX_REG, [0xc6] = V_N | V_66,
		[0xd0] = V_66 | V_F2,
		[0xd1 ... 0xd6] = V_66, [0xd7] = V_66 | VX_REG,
		[0xd8 ... 0xdf] = V_66,
		[0xe0 ... 0xe5] = V_66, [0xe6] = V_66 | V_F3 | V_F2,
		[0xe7] = V_66 | VX_MEM,
		[0xe8 ... 0xef] = V_66,
		[0xf0] = V_F2 | VX_MEM,
		[0xf1 ... 0xf6] = V_66, [0xf7] = V_66 | VX_REG,
		[0xf8 ... 0xfe] = V_66,
	},
	/* VEX.0F38 */
	[1] = {
		[0x00 ... 0x0f] = V_66,
		[0x13] = V_66, [0x16 ... 0x18] = V_66, [0x19] = V_66, [0x1a] = V_66 | VX_MEM,
		[0x1c ... 0x1e] = V_66,
		[0x20 ... 0x25] = V_66,
		[0x28 ... 0x29] = V_66, [0x2a] = V_66 | VX_MEM, [0x2b] = V_66,
		[0x2c ... 0x2f] = V_66 | VX_MEM,
		[0x30 ... 0x41] = V_66,
		[0x45 ... 0x47] = V_66,
		[0x58 ... 0x59] = V_66, [0x5a] = V_66 | VX_MEM,
		[0x78 ... 0x79] = V_66,
		[0x8c] = V_66 | VX_MEM, [0x8e] = V_66 | VX_MEM,
		[0x90 ... 0x93] = V_66 | VX_MEM,
		[0x96 ... 0x9f] = V_66, [0xa6 ... 0xaf] = V_66, [0xb6 ... 0xbf] = V_66,
		[0xcf] = V_66,
		[0xdb ... 0xdf] = V_66,
		[0xf2] = V_N,				/* ANDN */
		[0xf3] = V_N | VX_GRP,			/* BLSR BLSMSK BLSI */
		[0xf5] = V_N | V_F3 | V_F2,		/* BZHI PEXT PDEP */
		[0xf6] = V_F2,				/* MULX */
		[0xf7] = V_ALL,				/* BEXTR SHLX SARX SHRX */
	},
	/* VEX.0F3A (all take Ib) */
	[2] = {
		[0x00 ... 0x02] = V_66, [0x04 ... 0x06] = V_66,
		[0x08 ... 0x0f] = V_66,
		[0x14 ... 0x19] = V_66, [0x1d] = V_66,
		[0x20 ... 0x22] = V_66,
		[0x30 ... 0x33] = V_66 | VX_REG,	/* KSHIFT */
		[0x38 ... 0x39] = V_66,
		[0x40 ... 0x42] = V_66, [0x44] = V_66, [0x46] = V_66,
		[0x48 ... 0x4c] = V_66,			/* VPERMIL2 (AMD), VBLENDV */
		[0x5c ... 0x5f] = V_66, [0x68 ... 0x6f] = V_66, [0x78 ... 0x7f] = V_66, /* FMA4 */
		[0x60 ... 0x63] = V_66,
		[0xce ... 0xcf] = V_66,
		[0xdf] = V_66,
		[0xf0] = V_F2,				/* RORX */
	},
};

bool vex_grp_valid(unsigned op, uint8_t modrm, unsigned pp)
{
	unsigned reg = (modrm >> 3) & 7;

	switch (op) {
	case 0x112:
	case 0x116: /* VMOVLPD/VMOVHPD (66) need memory */
		return pp != 1 || (modrm >> 6) != 3;
	case 0x171:
	case 0x172: /* VPSRLW/VPSRAW/VPSLLW imm (and D) */
		return reg == 2 || reg == 4 || reg == 6;
	case 0x173:
		return reg == 2 || reg == 3 || reg == 6 || reg == 7;
	case 0x1ae: /* VLDMXCSR, VSTMXCSR */
		return reg == 2 || reg == 3;
	case 0x2f3: /* BLSR, BLSMSK, BLSI */
		return reg >= 1 && reg <= 3;
	}
	return true;
}

bool xop_valid(unsigned map, uint8_t opc, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;

	if (map == 8) {
		switch (opc) {
		case 0x85:
		case 0x86:
		case 0x87:
		case 0x8e:
		case 0x8f:
		case 0x95:
		case 0x96:
		case 0x97:
		case 0x9e:
		case 0x9f:
		case 0xa2:
		case 0xa3:
		case 0xa6:
		case 0xb6:
		case 0xc0:
		case 0xc1:
		case 0xc2:
		case 0xc3:
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf:
		case 0xec:
		case 0xed:
		case 0xee:
		case 0xef:
			return true;
		}
		return false;
	}
	if (map == 9) {
		switch (opc) {
		case 0x01:
			return reg != 0; /* BLCFILL .. T1MSKC */
		case 0x02:
			return reg == 1 || reg == 6; /* BLCMSK, BLCI */
		case 0x12:
			return (modrm >> 6) == 3 && reg <= 1; /* LLWPCB, SLWPCB */
		case 0x80:
		case 0x81:
		case 0x82:
		case 0x83:
		case 0x90 ... 0x9b:
		case 0xc1:
		case 0xc2:
		case 0xc3:
		case 0xc6:
		case 0xc7:
		case 0xcb:
		case 0xd1:
		case 0xd2:
		case 0xd3:
		case 0xd6:
		case 0xd7:
		case 0xdb:
		case 0xe1:
		case 0xe2:
		case 0xe3:
			return true;
		}
		return false;
	}
	/* map 0Ah: BEXTR imm32, LWPINS/LWPVAL */
	return opc == 0x10 || (opc == 0x12 && reg <= 1);
}
