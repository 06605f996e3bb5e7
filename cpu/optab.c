/*
 * cpu/optab.c — the handler registry: for every (map, opcode) the list of
 * optab_entry rows the instruction families registered, searched in
 * registration order by the decoder (cpu/decode.c) on block-cache misses.
 *
 * The registry is the one piece of process-wide mutable state in the core:
 * it is filled once per process by optab_init() (guarded by call_once) and
 * only read afterwards, so any number of machines can share it.
 *
 * Linkage of the family *_register functions: nestbox_core is a static
 * archive, and an undefined WEAK reference never pulls an archive member in,
 * so weak references would leave every family out of the emulator binary
 * (nm showed all ten as unresolved "w"). Now that every family exists the
 * references are strong, which also makes the linker pull each family file.
 * Build with -DOPTAB_WEAK_FAMILIES to get the weak, call-if-linked variant
 * back (useful only when linking object files directly, not the archive).
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include <stdio.h>
#include <stdlib.h>
#include <threads.h>

#include "cpu/insn.h"

/* Rows for one (map, opcode): a growable array, first match wins. */
struct optab_list {
	struct optab_entry *v;
	unsigned n, cap;
};

static struct optab_list optab[4 * 256];

void optab_add(const struct optab_entry *e)
{
	if (e->op >= 4 * 256 || !e->fn) {
		fprintf(stderr, "nestbox: optab_add: bad entry %s (op %#x)\n",
			e->name ? e->name : "?", e->op);
		abort(); /* a family table bug, not guest behaviour */
	}
	struct optab_list *l = &optab[e->op];
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 4;
		struct optab_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			perror("nestbox: optab_add");
			abort();
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
}

void optab_add_many(const struct optab_entry *e, int n)
{
	for (int k = 0; k < n; k++)
		optab_add(&e[k]);
}

static inline int entry_matches(const struct optab_entry *e, const struct insn *in)
{
	if (e->mp != OPT_ANY && e->mp != in->mp)
		return 0;
	unsigned isvex = !!(in->pfx & PFX_VEX);
	if (e->vex != isvex)
		return 0;
	if (e->w != OPT_ANY) {
		unsigned w = isvex ? in->vexw : !!(in->pfx & PFX_REXW);
		if (e->w != w)
			return 0;
	}
	/* ModRM conditions only apply to opcodes that have a ModRM byte. */
	if (in->has_modrm) {
		unsigned isreg = in->mod == 3;
		if (e->mod == OPT_MOD_MEM && isreg)
			return 0;
		if (e->mod == OPT_MOD_REG && !isreg)
			return 0;
		if (e->reg != OPT_ANY && e->reg != ((in->modrm >> 3) & 7))
			return 0;
		if (e->rm != OPT_ANY && (!isreg || e->rm != (in->modrm & 7)))
			return 0;
	}
	return 1;
}

const struct optab_entry *optab_find(const struct insn *in)
{
	const struct optab_list *l = &optab[in->op & 0x3ff];
	for (unsigned k = 0; k < l->n; k++)
		if (entry_matches(&l->v[k], in))
			return &l->v[k];
	return NULL;
}

/* The instruction families (cpu/insn.h). */
#define FAMILIES(X)                                                                  \
	X(ops_alu_register) X(ops_bit_register) X(ops_data_register)                \
	X(ops_ctrl_register) X(ops_prot_register) X(ops_sys_register)               \
	X(ops_x87_register) X(ops_x87_state_register) X(ops_simd_int_register)      \
	X(ops_simd_fp_register) X(ops_vmx_register) X(ops_svm_register)

#ifdef OPTAB_WEAK_FAMILIES
#define DECLARE_WEAK(f) extern __typeof__(f) f __attribute__((weak));
FAMILIES(DECLARE_WEAK)
#define CALL_FAMILY(f) \
	if (f)         \
		f();
#else
#define CALL_FAMILY(f) f();
#endif

static void optab_fill(void)
{
	FAMILIES(CALL_FAMILY)
}

static once_flag optab_once = ONCE_FLAG_INIT;

void optab_init(void)
{
	call_once(&optab_once, optab_fill);
}
