/*
 * cpu/ops_string.c — the string instructions MOVS, CMPS, STOS, LODS, SCAS
 * (A4-AF) in byte/word/dword/qword sizes, with REP / REPE / REPNE.
 *
 * Rules (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ", Vol. 1 §7.3.9):
 *  - The address size selects the width of rSI, rDI and the count rCX
 *    (16: SI/DI/CX, upper bits kept; 32: ESI/EDI/ECX, zero-extended;
 *    64: RSI/RDI/RCX). RFLAGS.DF selects the direction.
 *  - The source is seg:rSI with seg = in->seg (DS unless overridden); the
 *    destination is always ES:rDI (no override).
 *  - F3 is REP for MOVS/STOS/LODS and REPE for CMPS/SCAS; F2 is REPNE for
 *    CMPS/SCAS and, as on hardware, acts as REP for MOVS/STOS/LODS.
 *  - Precise faults: rCX/rSI/rDI are committed after every element, so a
 *    fault in iteration k leaves them as k completed iterations left them;
 *    the fault path restores rip = ip_start, so the instruction restarts.
 *  - Interrupt latency: one call runs at most REP_CHUNK iterations; when
 *    work remains it sets rip = ip_start so the loop re-executes it (the
 *    architectural "interruptible REP" behaviour).
 *
 * Bulk path (REP MOVS/STOS): when the next run of elements lies inside one
 * 4K linear page for source and destination, inside the segment limits, and
 * the two ranges do not overlap, the run is moved with one cpu_rdn/cpu_wrn.
 * Each such run begins with an element the per-element loop would also
 * execute first, and touches no other page, so a fault still arrives with
 * rCX/rSI/rDI exactly as the element loop would leave them. Everything else
 * (page-straddling elements, offsets near the address-size wrap, expand-down
 * segments, overlapping MOVS) takes the per-element loop.
 */
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_int.h"

#define REP_CHUNK 4096

/* Element size of a string opcode: even opcodes are byte forms. */
static inline unsigned str_size(const struct insn *in)
{
	return (in->op & 1) ? in->osz : 1;
}

static inline int64_t str_step(const struct cpu *cpu, unsigned size)
{
	return (cpu->rflags & F_DF) ? -(int64_t)size : (int64_t)size;
}

/* Iterations one call may run. With TF set every iteration ends with a
 * single-step trap (SDM Vol. 3 §18.3.1.4: a repeated string instruction
 * traps after each iteration), and with debug registers armed a data
 * breakpoint traps after the iteration that hit it, so run one and restart. */
static inline uint64_t rep_budget(const struct cpu *cpu)
{
	return ((cpu->rflags & F_TF) || cpu->dbg_data) ? 1 : REP_CHUNK;
}

static inline bool str_rep(const struct insn *in)
{
	return (in->pfx & (PFX_REP | PFX_REPNE)) != 0;
}

/* For CMPS/SCAS: true if the repeat condition is REPNE (F2). With both F2 and
 * F3 present the last one wins, which the decoder reports in in->mp. */
static inline bool str_repne(const struct insn *in)
{
	if ((in->pfx & (PFX_REP | PFX_REPNE)) == (PFX_REP | PFX_REPNE))
		return in->mp == MP_F2;
	return (in->pfx & PFX_REPNE) != 0;
}

static inline uint64_t rget(const struct cpu *cpu, int r, unsigned asz)
{
	return reg_get(cpu, r, (int)asz);
}

static inline void radv(struct cpu *cpu, int r, unsigned asz, int64_t d)
{
	reg_set(cpu, r, (int)asz, cpu->gpr[r] + (uint64_t)d);
}

/* rCX - 1 under the address size. */
static inline void rcx_dec(struct cpu *cpu, unsigned asz)
{
	reg_set(cpu, R_CX, (int)asz, cpu->gpr[R_CX] - 1);
}

/* ---- bulk helpers ---- */

#define BULK_MAX 4096 /* bytes per bulk run (one page at most anyway) */

/* Linear address of seg:lo for a bulk run covering offsets [lo, hi], or false
 * when the per-element checks must decide (limit inside the run, expand-down
 * or unusable segment). Canonical and rights checks stay in cpu_rdn/wrn: they
 * are uniform across one page and so fault on the run's first element. */
static inline bool bulk_lin(const struct cpu *cpu, int seg, uint64_t lo, uint64_t hi, uint64_t *lin)
{
	const struct seg *s = &cpu->seg[seg];
	if (cpu->mode == MODE_LONG64) {
		*lin = (seg >= S_FS ? s->base : 0) + lo;
		return true;
	}
	if (cpu->mode != MODE_REAL && cpu->mode != MODE_V86 &&
	    (((s->attr & 0xc) == 0x4) || (s->attr & SEG_ATTR_UNUSABLE)))
		return false;
	if (hi > s->limit)
		return false;
	*lin = (s->base + lo) & 0xffffffffull;
	return true;
}

/* How many elements starting at offset off (linear lin) stay inside lin's
 * page and away from the address-size wrap, moving forward or backward. */
static inline uint64_t bulk_room(uint64_t off, uint64_t lin, unsigned size, bool down,
				 uint64_t amask)
{
	unsigned pg = (unsigned)(lin & 0xfff);
	if (!down) {
		if (off > amask - BULK_MAX)
			return 0;
		return (0x1000u - pg) / size;
	}
	if (off < BULK_MAX || pg + size > 0x1000u)
		return 0;
	return pg / size + 1;
}

/* Number of elements (>= 2) of a bulk run for an access at seg:off, or 0.
 * *lo receives the lowest offset of the run. */
static inline uint64_t bulk_plan(const struct cpu *cpu, int seg, uint64_t off, unsigned size,
				 bool down, uint64_t amask, uint64_t n, uint64_t *lo, uint64_t *lin)
{
	/* Page position of the first element. */
	uint64_t l0;
	if (!bulk_lin(cpu, seg, off, off, &l0))
		return 0;
	uint64_t room = bulk_room(off, l0, size, down, amask);
	if (room < n)
		n = room;
	if (n < 2)
		return 0;
	uint64_t bytes = n * size;
	*lo = down ? off - (n - 1) * size : off;
	if (!bulk_lin(cpu, seg, *lo, *lo + bytes - 1, lin))
		return 0;
	return n;
}

/* ---- MOVS ---- */

static inline void movs_one(struct cpu *cpu, const struct insn *in, unsigned size, int64_t d)
{
	unsigned asz = in->asz;
	uint64_t v = cpu_rd(cpu, in->seg, rget(cpu, R_SI, asz), size);
	cpu_wr(cpu, S_ES, rget(cpu, R_DI, asz), size, v);
	radv(cpu, R_SI, asz, d);
	radv(cpu, R_DI, asz, d);
}

/* One bulk run of at most max elements; returns how many were moved (0: the
 * caller does one element the slow way). */
static uint64_t movs_bulk(struct cpu *cpu, const struct insn *in, unsigned size, uint64_t max)
{
	unsigned asz = in->asz;
	uint64_t amask = size_mask(asz);
	bool down = (cpu->rflags & F_DF) != 0;
	uint64_t si = rget(cpu, R_SI, asz), di = rget(cpu, R_DI, asz);
	uint64_t slo, dlo, sl, dl;
	uint64_t n = bulk_plan(cpu, in->seg, si, size, down, amask, max, &slo, &sl);
	if (n)
		n = bulk_plan(cpu, S_ES, di, size, down, amask, n, &dlo, &dl);
	if (!n)
		return 0;
	/* The destination may have shortened the run: re-derive the source range
	 * (a sub-range of the one already checked, so bulk_lin succeeds). */
	unsigned bytes = (unsigned)(n * size);
	slo = down ? si - (n - 1) * size : si;
	bulk_lin(cpu, in->seg, slo, slo + bytes - 1, &sl);
	/* Overlapping ranges need element order (e.g. pattern replication). */
	if (sl < dl + bytes && dl < sl + bytes)
		return 0;
	/* A fault must name the first element in iteration order (CR2 is the
	 * byte being accessed, the top of the run when DF=1): touch it first. */
	if (down) {
		(void)cpu_rd(cpu, in->seg, si, size);
		cpu_probe_write(cpu, S_ES, di, size);
	}
	uint8_t buf[BULK_MAX];
	cpu_rdn(cpu, in->seg, slo, buf, bytes);
	cpu_wrn(cpu, S_ES, dlo, buf, bytes);
	int64_t d = down ? -(int64_t)bytes : (int64_t)bytes;
	radv(cpu, R_SI, asz, d);
	radv(cpu, R_DI, asz, d);
	reg_set(cpu, R_CX, (int)asz, cpu->gpr[R_CX] - n);
	return n;
}

static void op_movs(struct cpu *cpu, const struct insn *in)
{
	unsigned size = str_size(in), asz = in->asz;
	int64_t d = str_step(cpu, size);
	if (!str_rep(in)) {
		movs_one(cpu, in, size, d);
		return;
	}
	uint64_t budget = rep_budget(cpu);
	while (budget) {
		uint64_t cnt = rget(cpu, R_CX, asz);
		if (cnt == 0)
			return;
		uint64_t n = movs_bulk(cpu, in, size, cnt < budget ? cnt : budget);
		if (!n) {
			movs_one(cpu, in, size, d);
			rcx_dec(cpu, asz);
			n = 1;
		}
		budget -= n;
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

/* ---- STOS ---- */

static uint64_t stos_bulk(struct cpu *cpu, const struct insn *in, unsigned size, uint64_t v,
			  uint64_t max)
{
	unsigned asz = in->asz;
	bool down = (cpu->rflags & F_DF) != 0;
	uint64_t di = rget(cpu, R_DI, asz), lo, lin;
	uint64_t n = bulk_plan(cpu, S_ES, di, size, down, size_mask(asz), max, &lo, &lin);
	if (!n)
		return 0;
	unsigned bytes = (unsigned)(n * size);
	if (down)
		cpu_probe_write(cpu, S_ES, di, size); /* fault on the first element */
	uint8_t buf[BULK_MAX];
	if (size == 1) {
		memset(buf, (int)v, bytes);
	} else {
		for (unsigned k = 0; k < bytes; k += size)
			memcpy(buf + k, &v, size); /* little-endian host */
	}
	cpu_wrn(cpu, S_ES, lo, buf, bytes);
	radv(cpu, R_DI, asz, down ? -(int64_t)bytes : (int64_t)bytes);
	reg_set(cpu, R_CX, (int)asz, cpu->gpr[R_CX] - n);
	return n;
}

static void op_stos(struct cpu *cpu, const struct insn *in)
{
	unsigned size = str_size(in), asz = in->asz;
	int64_t d = str_step(cpu, size);
	uint64_t v = cpu->gpr[R_AX] & size_mask(size);
	if (!str_rep(in)) {
		cpu_wr(cpu, S_ES, rget(cpu, R_DI, asz), size, v);
		radv(cpu, R_DI, asz, d);
		return;
	}
	uint64_t budget = rep_budget(cpu);
	while (budget) {
		uint64_t cnt = rget(cpu, R_CX, asz);
		if (cnt == 0)
			return;
		uint64_t n = stos_bulk(cpu, in, size, v, cnt < budget ? cnt : budget);
		if (!n) {
			cpu_wr(cpu, S_ES, rget(cpu, R_DI, asz), size, v);
			radv(cpu, R_DI, asz, d);
			rcx_dec(cpu, asz);
			n = 1;
		}
		budget -= n;
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

/* ---- LODS ---- */

static inline void lods_one(struct cpu *cpu, const struct insn *in, unsigned size, int64_t d)
{
	unsigned asz = in->asz;
	uint64_t v = cpu_rd(cpu, in->seg, rget(cpu, R_SI, asz), size);
	if (size == 1)
		reg8_set(cpu, R_AX, false, (uint8_t)v);
	else
		reg_set(cpu, R_AX, (int)size, v);
	radv(cpu, R_SI, asz, d);
}

static void op_lods(struct cpu *cpu, const struct insn *in)
{
	unsigned size = str_size(in), asz = in->asz;
	int64_t d = str_step(cpu, size);
	if (!str_rep(in)) {
		lods_one(cpu, in, size, d);
		return;
	}
	for (uint64_t n = rep_budget(cpu); n; n--) {
		if (rget(cpu, R_CX, asz) == 0)
			return;
		lods_one(cpu, in, size, d);
		rcx_dec(cpu, asz);
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

/* ---- CMPS / SCAS ----
 * Flags as CMP: src1 - src2 with src1 = [seg:rSI] (CMPS) or rAX (SCAS) and
 * src2 = [ES:rDI]. Returns true if the two were equal (ZF). */

static inline bool cmps_one(struct cpu *cpu, const struct insn *in, unsigned size, int64_t d)
{
	unsigned asz = in->asz;
	uint64_t a = cpu_rd(cpu, in->seg, rget(cpu, R_SI, asz), size);
	uint64_t b = cpu_rd(cpu, S_ES, rget(cpu, R_DI, asz), size);
	lf_set(cpu, CC_OP(CC_SUB, size), (a - b) & size_mask(size), a, b);
	radv(cpu, R_SI, asz, d);
	radv(cpu, R_DI, asz, d);
	return a == b;
}

static inline bool scas_one(struct cpu *cpu, const struct insn *in, unsigned size, int64_t d)
{
	unsigned asz = in->asz;
	uint64_t a = cpu->gpr[R_AX] & size_mask(size);
	uint64_t b = cpu_rd(cpu, S_ES, rget(cpu, R_DI, asz), size);
	lf_set(cpu, CC_OP(CC_SUB, size), (a - b) & size_mask(size), a, b);
	radv(cpu, R_DI, asz, d);
	return a == b;
}

static void op_cmps(struct cpu *cpu, const struct insn *in)
{
	unsigned size = str_size(in), asz = in->asz;
	int64_t d = str_step(cpu, size);
	if (!str_rep(in)) {
		cmps_one(cpu, in, size, d);
		return;
	}
	/* REPE stops when the elements differ, REPNE when they are equal. */
	bool stop_on_eq = str_repne(in);
	for (uint64_t n = rep_budget(cpu); n; n--) {
		if (rget(cpu, R_CX, asz) == 0)
			return;
		bool eq = cmps_one(cpu, in, size, d);
		rcx_dec(cpu, asz);
		if (eq == stop_on_eq)
			return;
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

static void op_scas(struct cpu *cpu, const struct insn *in)
{
	unsigned size = str_size(in), asz = in->asz;
	int64_t d = str_step(cpu, size);
	if (!str_rep(in)) {
		scas_one(cpu, in, size, d);
		return;
	}
	bool stop_on_eq = str_repne(in);
	for (uint64_t n = rep_budget(cpu); n; n--) {
		if (rget(cpu, R_CX, asz) == 0)
			return;
		bool eq = scas_one(cpu, in, size, d);
		rcx_dec(cpu, asz);
		if (eq == stop_on_eq)
			return;
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

/* clang-format off */
#define E(o, f, n) {(o), OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, (f), (n)}

static const struct optab_entry string_ops[] = {
	E(0x0a4, op_movs, "movs"), E(0x0a5, op_movs, "movs"),
	E(0x0a6, op_cmps, "cmps"), E(0x0a7, op_cmps, "cmps"),
	E(0x0aa, op_stos, "stos"), E(0x0ab, op_stos, "stos"),
	E(0x0ac, op_lods, "lods"), E(0x0ad, op_lods, "lods"),
	E(0x0ae, op_scas, "scas"), E(0x0af, op_scas, "scas"),
};

#undef E
/* clang-format on */

void ops_string_register(void)
{
	optab_add_many(string_ops, (int)(sizeof(string_ops) / sizeof(string_ops[0])));
}
