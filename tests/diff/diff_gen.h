/*
 * tests/diff/diff_gen.h — private interface of the sequence generator:
 * random numbers, the instruction encoder (diff_enc.c), flag-definedness
 * tracking and the per-family generators (diff_gen_*.c).
 */
#ifndef NESTBOX_TESTS_DIFF_DIFF_GEN_H
#define NESTBOX_TESTS_DIFF_DIFF_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "tests/diff/diff.h"

/* Byte registers AH, CH, DH, BH (encodable only without REX). */
#define R8_AH 16

struct gen {
	struct seq *s;
	uint64_t rng;
	int mode;
	const struct cpu_model *model;
	uint32_t fundef;    /* arithmetic flags currently undefined */
	uint16_t fswundef;  /* FSW condition bits currently undefined */
	bool glue;          /* instructions being emitted are set-up glue */
	bool tail;          /* ... that completes the previous instruction */
	bool df;            /* current RFLAGS.DF */
	uint32_t xmm_dead;  /* XMM registers holding approximations: never read */
	int sp;             /* RSP - DATA_VA */
	bool done;          /* the sequence is complete (it ends in a fault) */
	uint32_t force_abs; /* next compared memory operand: this absolute address */
	bool force_lock;    /* next compared instruction: with a LOCK prefix */
	bool frame;         /* inside ENTER ... LEAVE: RBP must be kept */
	int saved;          /* x87 state image at the data start: 1 FXSAVE, 2 FNSTENV, 3 FNSAVE */
};

/* One instruction to encode. Register operands are 0-15 (16-19 = AH..BH when
 * the operand is a byte register); memory operands are [base + disp8] with
 * base R15 (64-bit mode) or EBP (compatibility mode). */
struct ins {
	uint8_t p66, rep, lock; /* rep: 0, 0xf2 or 0xf3 */
	uint8_t w;              /* REX.W / VEX.W */
	uint8_t vex, vl, vpp, vvvv;
	uint8_t map; /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
	uint8_t op;
	uint8_t modrm; /* has a ModRM byte */
	uint8_t reg;   /* ModRM.reg: register or /digit */
	uint8_t mem;   /* r/m is memory */
	uint8_t rm;    /* r/m register, or register of an opcode+r form */
	int8_t disp;
	uint8_t immsz;
	uint64_t imm;
	uint8_t byte_reg, byte_rm; /* reg / rm are byte registers */
	uint8_t oprm;              /* register in the opcode's low 3 bits (rm) */
	uint8_t maskmov_rdi;       /* uses [rDI] implicitly: keep rDI */
};

uint64_t rnd(struct gen *g);
static inline unsigned rndn(struct gen *g, unsigned n)
{
	return (unsigned)((rnd(g) >> 11) % n);
}
/* An interesting value of the given size in bytes (edges, small, random). */
uint64_t rnd_val(struct gen *g, int size);

/* Encode and append; name is the form ("add r32,m32"). Returns false (and
 * emits nothing) if the form is in the exclusion table or the sequence is
 * full. Counted unless g->glue. */
bool emit(struct gen *g, const struct ins *in, const char *name);
bool form_excluded(const char *name);
void form_exclusions_off(void);
/* Room left for more instructions? */
bool gen_room(const struct gen *g);

/* Flag bookkeeping. */
static inline bool flags_ok(const struct gen *g, uint32_t reads)
{
	return !(g->fundef & reads);
}
/* Record the masks after the last emitted instruction (diff_enc.c). */
void note_flags(struct gen *g);
static inline void flags_write(struct gen *g, uint32_t defined, uint32_t undef)
{
	g->fundef = (g->fundef & ~(defined | undef)) | undef;
	note_flags(g);
}
/* Flags read by condition code cc. */
uint32_t cc_reads(int cc);

/* Operand pickers. */
int pick_gpr(struct gen *g); /* a writable GPR */
/* Two byte registers that can be encoded together (both legacy or both
 * REX); forbid_rex: REX.W or a high register elsewhere forces legacy. */
void pick_gpr8_pair(struct gen *g, int *a, int *b, bool need_legacy);
/* disp8 of a memory operand of size bytes with the given alignment. */
int8_t pick_disp(struct gen *g, int size, int align);
const char *opname(char kind, int size); /* "r32", "m64", "i8" */

/* Family generators: emit one counted instruction (plus glue), or return
 * false when nothing could be emitted this time. */
bool gen_int(struct gen *g);
bool gen_bmi(struct gen *g);
bool gen_str(struct gen *g);
bool gen_flow(struct gen *g);
bool gen_fault(struct gen *g);
bool gen_smc(struct gen *g);
bool gen_seg(struct gen *g);
bool gen_bcd(struct gen *g);
bool gen_x87(struct gen *g);
bool gen_simd(struct gen *g, int fam);

/* Initial state of the x87 stack for the x87 family. */
void gen_x87_init(struct gen *g, struct dstate *st);
uint64_t rnd_f64bits(struct gen *g);
uint32_t rnd_f32bits(struct gen *g);

#endif
