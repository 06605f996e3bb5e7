/*
 * cpu/insn.h — a decoded instruction and the handler registry.
 *
 * The decoder (cpu/decode.c) turns bytes into a struct insn once; decoded
 * instructions are cached in blocks (cpu/bcache.c) and executed by calling
 * insn->fn. Handlers live in family files (cpu/ops_*.c, cpu/x87/, cpu/simd/)
 * and each family registers its opcodes at start-up through optab_add(), so
 * the decoder engine knows lengths and operand layout of every opcode (from
 * the SDM opcode maps, cpu/decode_attr.c) while families own their semantics.
 *
 * Opcode numbering (insn->op): map << 8 | opcode byte, with
 *   map 0 = one-byte, 1 = 0F, 2 = 0F 38, 3 = 0F 3A.
 * VEX-encoded instructions use the same map numbers with INSN_VEX set.
 */
#ifndef NESTBOX_CPU_INSN_H
#define NESTBOX_CPU_INSN_H

#include <stdint.h>

struct cpu;
struct insn;

typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/* insn->pfx bits */
#define PFX_LOCK   0x0001
#define PFX_REP    0x0002 /* F3 */
#define PFX_REPNE  0x0004 /* F2 */
#define PFX_OPSIZE 0x0008 /* 66 */
#define PFX_ADSIZE 0x0010 /* 67 */
#define PFX_REX    0x0020 /* any REX prefix present (selects SPL..DIL) */
#define PFX_REXW   0x0040
#define PFX_VEX    0x0080 /* VEX encoded */
#define PFX_SEG    0x0100 /* explicit segment override present */

/* Mandatory-prefix class for SSE-style opcodes (last of 66/F3/F2 wins as on
 * hardware: F2/F3 take precedence over 66). */
enum {
	MP_NONE = 0,
	MP_66 = 1,
	MP_F3 = 2,
	MP_F2 = 3
};

#define BASE_RIP 0xfe /* insn->base for RIP-relative addressing */

struct insn {
	insn_fn fn;
	uint64_t imm;  /* immediate, sign-extended to 64 bits as decoded; moffs
			  holds the full offset; handlers mask to their size */
	int32_t disp;  /* displacement (sign-extended) */
	uint16_t op;   /* map << 8 | opcode */
	uint16_t pfx;  /* PFX_* */
	uint16_t imm2; /* ENTER nesting level; far pointer selector (EA/9A) */
	uint8_t len;   /* total length in bytes */
	uint8_t osz;   /* operand size in bytes: 2, 4 or 8 (byte forms ignore) */
	uint8_t asz;   /* address size in bytes: 2, 4 or 8 */
	uint8_t seg;   /* segment of the memory operand (override or default:
			  SS for rBP/rSP bases, DS otherwise) */
	uint8_t modrm; /* raw ModRM byte (0 if none) */
	uint8_t mod;   /* ModRM.mod; 3 = register operand */
	uint8_t reg;   /* ModRM.reg with REX.R (or VEX.R) applied */
	uint8_t rm;    /* ModRM.rm with REX.B applied (register forms); for
			  opcodes with the register in the low bits (50+r,
			  B8+r, ...) the register number with REX.B applied */
	uint8_t base;  /* memory operand base register, R_NONE or BASE_RIP */
	uint8_t index; /* index register or R_NONE */
	uint8_t scale; /* index shift 0..3 */
	uint8_t mp;    /* MP_* mandatory prefix class */
	uint8_t vvvv;  /* VEX.vvvv (register number, already inverted) */
	uint8_t vexl;  /* VEX.L */
	uint8_t vexw;  /* VEX.W */
	uint8_t has_modrm;
	uint8_t flags; /* OPF_* copied from the matching optab entry */
};

/* True if the memory operand exists (ModRM.mod != 3). */
static inline int insn_is_mem(const struct insn *in)
{
	return in->mod != 3;
}

/* ---- registry ---- */

/* Match conditions for optab_add. */
#define OPT_ANY 0xff /* any value of reg / rm / mp */
enum opt_mod {
	OPT_MOD_ANY = 0,
	OPT_MOD_MEM = 1,
	OPT_MOD_REG = 2
};

/* optab_entry.flags (mode validity, default-64 operand sizes and immediate
 * sizes are architectural facts owned by the decoder, cpu/decode_attr.c) */
#define OPF_ENDS_BLOCK                                         \
	0x01 /* unconditional control transfer, or may change  \
		mode/CS/paging: the block cache stops decoding \
		after it */
#define OPF_LOCKABLE                                          \
	0x02 /* LOCK prefix allowed (memory destination forms \
		only); the decoder yields #UD otherwise */

struct optab_entry {
	uint16_t op;   /* map << 8 | byte */
	uint8_t mp;    /* MP_* or OPT_ANY (OPT_ANY: the 66 prefix is an
			  operand-size prefix, F2/F3 are REP prefixes) */
	uint8_t reg;   /* ModRM.reg (0-7, without REX.R) or OPT_ANY */
	uint8_t rm;    /* ModRM.rm (0-7, without REX.B) for mod==3 or OPT_ANY */
	uint8_t mod;   /* enum opt_mod */
	uint8_t vex;   /* 0 = legacy encoding only, 1 = VEX only */
	uint8_t w;     /* REX.W/VEX.W required value, or OPT_ANY */
	uint8_t flags; /* OPF_* */
	uint16_t feat; /* enum feature (cpu/cpuid.h) required, or 0 (none):
			  the decoder yields #UD when the model lacks it */
	insn_fn fn;
	const char *name; /* mnemonic, for traces */
};

/* Register handlers (called from each family's *_register function, which
 * cpu/optab.c calls once per process before the first decode). The first
 * registered entry that matches wins, so register specific before generic. */
void optab_add(const struct optab_entry *e);
void optab_add_many(const struct optab_entry *e, int n);

/* Look up the handler for a partly decoded instruction; NULL = #UD. */
const struct optab_entry *optab_find(const struct insn *in);

/* Family registration functions (each defined in its family file). */
void ops_alu_register(void); /* ADD..CMP, TEST, INC/DEC, NEG/NOT, MUL/DIV, shifts */
void ops_bit_register(
	void); /* BT*, BSF/BSR, POPCNT, LZCNT/TZCNT, BMI1/2, ADX, CRC32, MOVBE, BSWAP */
void ops_data_register(
	void); /* MOV, MOVZX/SX, LEA, XCHG, CMOV, SETcc, CBW.., string ops, BCD, LAHF.. */
void ops_ctrl_register(void); /* Jcc, JMP, CALL, RET, LOOP, JCXZ, stack ops, ENTER/LEAVE */
void ops_prot_register(void); /* segment loads, descriptor tables, far transfers, INT/IRET,
				 SYSCALL/SYSENTER family, SWAPGS, task switch */
void ops_sys_register(void);  /* CR/DR moves, MSRs, CPUID, TSC, HLT, CLI/STI, I/O, INVLPG, ... */
void ops_x87_register(void);  /* D8-DF, FWAIT */
void ops_x87_state_register(void); /* FXSAVE/FXRSTOR, XSAVE family, LDMXCSR/STMXCSR, EMMS */
void ops_simd_int_register(void);  /* MMX and SSE2..SSE4.2 integer, PCMPxSTRx, AES-NI, PCLMULQDQ */
void ops_simd_fp_register(void);   /* SSE..SSE4.1 floating point, moves, shuffles, conversions */
void ops_vmx_register(void);       /* VMX instructions (vmx/vmx_insn.c) */
void ops_svm_register(void);       /* SVM instructions (svm/svm_insn.c) */

void optab_init(void); /* idempotent: calls every *_register once */

#endif
