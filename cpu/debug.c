/*
 * cpu/debug.c — breakpoint matching for the debug registers DR0-DR3/DR7
 * (cpu/debug.h; Intel SDM Vol. 3 §17.2-17.3).
 *
 * How the callers must raise #DB (SDM Vol. 3 §17.3.1, Table 17-2):
 *  - Instruction breakpoints are FAULTS: before executing the instruction at
 *    lin, if RFLAGS.RF = 0 and dbg_match_exec() != 0, set those B-bits in
 *    DR6 (clearing the other B-bits) and raise #DB with RIP = that
 *    instruction. The handler returns with IRET setting RF=1, which
 *    suppresses the breakpoint once; RF is cleared after the next
 *    instruction completes.
 *  - Data and I/O breakpoints are TRAPS: the access completes (a REP string
 *    instruction completes the current iteration), then #DB is delivered
 *    with RIP = the next instruction (or the same REP instruction with the
 *    registers of the completed iteration). Accumulate the B-bits of every
 *    access of the instruction and deliver once after it retires, together
 *    with BS for single-step when TF was set.
 *  - General detect (DR7.GD) is a FAULT raised by MOV DR itself (cpu/
 *    ops_sys_cr.c): DR6.BD = 1, DR7.GD cleared.
 * The B-bits are only reported for enabled breakpoints (the SDM allows but
 * does not require reporting disabled ones).
 */
#include "cpu/debug.h"

static inline unsigned bp_rw(uint64_t dr7, int n)
{
	return (unsigned)(dr7 >> (16 + 4 * n)) & 3;
}

/* Breakpoint length in bytes from LENn (10b = 8 bytes). */
static inline uint64_t bp_len(uint64_t dr7, int n)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	return len[(dr7 >> (18 + 4 * n)) & 3];
}

static inline bool bp_enabled(uint64_t dr7, int n)
{
	return (dr7 >> (2 * n)) & 3;
}

/* Outside long mode the debug registers hold 32-bit linear addresses. */
static inline uint64_t addr_mask(const struct cpu *cpu)
{
	return (cpu->msr.efer & EFER_LMA) ? ~0ull : 0xffffffffull;
}

int dbg_match_exec(const struct cpu *cpu, uint64_t lin)
{
	uint64_t dr7 = cpu->dr[7], m = addr_mask(cpu);
	int hit = 0;
	if (!(dr7 & DR7_ENABLE_MASK))
		return 0;
	for (int n = 0; n < 4; n++)
		if (bp_enabled(dr7, n) && bp_rw(dr7, n) == 0 && ((cpu->dr[n] ^ lin) & m) == 0)
			hit |= 1 << n;
	return hit;
}

int dbg_match_data(const struct cpu *cpu, uint64_t lin, unsigned size, bool is_write)
{
	uint64_t dr7 = cpu->dr[7], m = addr_mask(cpu);
	int hit = 0;
	if (!(dr7 & DR7_ENABLE_MASK) || size == 0)
		return 0;
	lin &= m;
	for (int n = 0; n < 4; n++) {
		unsigned rw = bp_rw(dr7, n);
		if (!bp_enabled(dr7, n) || (rw != 1 && rw != 3) || (rw == 1 && !is_write))
			continue;
		/* The breakpoint covers the naturally aligned LEN-byte range
		 * holding DRn (the low address bits are ignored). */
		uint64_t len = bp_len(dr7, n);
		uint64_t start = cpu->dr[n] & m & ~(len - 1);
		if (lin < start + len && start < lin + size)
			hit |= 1 << n;
	}
	return hit;
}

int dbg_match_io(const struct cpu *cpu, uint16_t port, unsigned size)
{
	uint64_t dr7 = cpu->dr[7];
	int hit = 0;
	if (!(dr7 & DR7_ENABLE_MASK) || !(cpu->cr4 & CR4_DE))
		return 0;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n) || bp_rw(dr7, n) != 2)
			continue;
		uint64_t len = bp_len(dr7, n);
		uint64_t start = cpu->dr[n] & 0xffff & ~(len - 1);
		if (port < start + len && start < (uint64_t)port + size)
			hit |= 1 << n;
	}
	return hit;
}
