/*
 * tests/diff/diff_gen_smc.c — the "smc" family: self-modifying code. A store
 * (MOV moffs, AL) rewrites a byte of an instruction further down the same
 * sequence, often inside the block being executed and sometimes across the
 * page boundary of the code area: the immediate of a MOV r32, imm32, or the
 * ModRM byte of a NOT r32 (turning it into NEG r32). The host executes the
 * new bytes (SDM Vol. 3 §9.1.3 / §8.1.3: stores to the instruction stream are
 * detected); nestbox must drop the stale decoded instruction.
 */
#include "tests/diff/diff_gen.h"

static void patch_addr(struct gen *g, int at, int size, uint64_t addr)
{
	for (int i = 0; i < size; i++)
		g->s->code[at + i] = (uint8_t)(addr >> (8 * i));
}

bool gen_smc(struct gen *g)
{
	if (form_excluded("smc store"))
		return false;
	bool opcode = rndn(g, 2);
	uint8_t v = (uint8_t)rnd(g);
	int r = pick_gpr(g);
	if (opcode)
		v = (uint8_t)(0xd8 | (r & 7));                /* ModRM of NEG r32 */
	struct ins mv = { .op = 0xb0, .immsz = 1, .imm = v }; /* mov al, v */
	g->glue = true;
	emit(g, &mv, "");
	g->glue = false;
	int asz = g->mode == 64 ? 8 : 4;
	struct ins st = { .op = 0xa2, .immsz = (uint8_t)asz, .imm = 0 };
	if (!emit(g, &st, "smc store"))
		return false;
	int at = g->s->len - asz;
	/* a few unrelated instructions in between, sometimes many (page crossing) */
	int between = rndn(g, 4) ? (int)rndn(g, 3) : 6 + (int)rndn(g, 10);
	for (int i = 0; i < between && gen_room(g); i++)
		gen_int(g);
	int target;
	if (opcode) {
		struct ins t = { .op = 0xf7, .modrm = 1, .reg = 2, .rm = (uint8_t)r };
		if (!emit(g, &t, "smc target not->neg"))
			return false;
		target = g->s->len - 1; /* ModRM is the last byte */
		flags_write(g, F_ARITH, 0);
	} else {
		struct ins t = {
			.op = 0xb8, .oprm = 1, .rm = (uint8_t)r, .immsz = 4, .imm = (uint32_t)rnd(g)
		};
		if (!emit(g, &t, "smc target mov imm"))
			return false;
		target = g->s->len - 4 + (int)rndn(g, 4);
	}
	/* the listing of a mismatch shows the code before the store */
	patch_addr(g, at, asz, CODE_VA + (uint32_t)target);
	return true;
}
