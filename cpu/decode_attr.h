/*
 * cpu/decode_attr.h — architectural facts of the legacy opcode maps (private
 * to the decoder, cpu/decode.c).
 *
 * One 32-bit attribute word per (map, opcode byte) says whether the opcode
 * exists, in which modes, whether a ModRM byte follows, which immediate
 * follows, the 64-bit operand-size rule and which mandatory prefixes
 * (none/66/F3/F2) give a defined instruction. Source: Intel SDM Vol. 2,
 * Appendix A (opcode maps, superscripts i64/o64/d64/f64) and A.4 (groups).
 */
#ifndef NESTBOX_CPU_DECODE_ATTR_H
#define NESTBOX_CPU_DECODE_ATTR_H

#include <stdbool.h>
#include <stdint.h>

/* Immediate kinds (attribute bits 3:0). */
enum imm_kind {
	IK_NONE,
	IK_B,     /* Ib / Jb */
	IK_W,     /* Iw */
	IK_Z,     /* Iz / Jz: 2 bytes if osz == 2, else 4 */
	IK_V,     /* Iv (B8+r): osz bytes */
	IK_ENTER, /* Iw then Ib (imm2) */
	IK_AP,    /* far pointer: Iz offset then Iw selector (imm2) */
	IK_MOFFS, /* offset of address size */
	IK_GRP3B, /* F6: Ib only for /0 and /1 (TEST) */
	IK_GRP3Z, /* F7: Iz only for /0 and /1 (TEST) */
	IK_SSE4A, /* 0F 78: Ib Ib with 66 (EXTRQ) or F2 (INSERTQ), none otherwise */
};

#define A_IMM   0x0000000fu
#define A_MODRM 0x00000010u /* ModRM byte follows */
#define A_I64   0x00000020u /* invalid (#UD) in 64-bit mode */
#define A_D64   0x00000040u /* default operand size 64 in 64-bit mode */
#define A_F64   0x00000080u /* operand size forced to 64 in 64-bit mode */
#define A_UD    0x00000100u /* undefined in every mode */
#define A_GRP   0x00000200u /* validity depends on ModRM: attr_grp_valid() */
#define A_MEM   0x00000400u /* memory operand only (mod == 3 is #UD) */
#define A_REG   0x00000800u /* register operand only (mod != 3 is #UD) */
#define A_CRDR  0x00001000u /* MOV CR/DR: ModRM.mod ignored, always register */
#define A_3DNOW 0x00002000u /* 0F 0F: ModRM then an opcode suffix byte */
#define A_O64   0x00004000u /* valid only in 64-bit mode */
/* Mandatory-prefix validity mask (bits 19:16), indexed by MP_*: 0 means the
 * opcode takes 66 as operand size and F2/F3 as REP, so any is fine. */
#define A_MP_SHIFT  16
#define A_MPV(mask) ((uint32_t)(mask) << A_MP_SHIFT)
#define MPV_NONE    1u
#define MPV_66      2u
#define MPV_F3      4u
#define MPV_F2      8u

/* attr_tab[map][byte] for maps 0 (one-byte), 1 (0F), 2 (0F 38), 3 (0F 3A). */
extern const uint32_t attr_tab[4][256];

/* Validity of opcodes flagged A_GRP (opcode groups and prefix-dependent
 * forms): op = map << 8 | byte, mp = MP_*, mode64 = 64-bit code. */
bool attr_grp_valid(unsigned op, uint8_t modrm, unsigned mp, bool mode64);

/* LOCK allowed with this opcode's memory form (SDM Vol. 2 LOCK: ADD ADC
 * AND BTC BTR BTS CMPXCHG CMPXCHG8B/16B DEC INC NEG NOT OR SBB SUB XOR
 * XADD XCHG). */
bool attr_lock_valid(unsigned op, uint8_t modrm);

/* VEX maps (Intel SDM Vol. 2 Appendix A, VEX forms; AMD FMA4/XOP): for
 * vex_tab[map - 1][byte] the low 4 bits are the valid VEX.pp mask (MPV_*,
 * pp 0/1/2/3 = none/66/F3/F2), plus VX_* bits. 0 = undefined. */
#define VX_REG     0x10 /* register form only */
#define VX_MEM     0x20 /* memory form only */
#define VX_GRP     0x40 /* ModRM.reg-dependent: vex_grp_valid() */
#define VX_NOMODRM 0x80 /* no ModRM (VZEROUPPER/VZEROALL) */
extern const uint8_t vex_tab[3][256];
bool vex_grp_valid(unsigned op, uint8_t modrm, unsigned pp);

/* XOP maps 8, 9, 0Ah (AMD APM Vol. 6): defined opcodes. */
bool xop_valid(unsigned map, uint8_t opc, uint8_t modrm);

/* 3DNow! suffix bytes that name an instruction (0F 0F /r ib). */
bool attr_3dnow_valid(uint8_t suffix);

#endif
