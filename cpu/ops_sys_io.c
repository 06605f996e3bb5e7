/*
 * cpu/ops_sys_io.c — port I/O instructions: IN/OUT with an immediate port
 * (E4-E7) or DX (EC-EF), and the string forms INS/OUTS (6C-6F) with REP.
 *
 * Permission (SDM Vol. 1 §19.5): in protected and V86 mode cpu_io_check()
 * raises #GP(0) unless CPL <= IOPL (not V86) or the TSS I/O bitmap allows
 * every byte of the access; real mode has no check. VMX/SVM I/O intercepts
 * (ICPT_IO, cpu/virt.h) are consulted right after that check. Operand size 64 (REX.W) acts as
 * 32: ports are at most 4 bytes wide.
 *
 * String forms follow cpu/ops_string.c's rules: rDI/rSI/rCX use the address
 * size, DF gives the direction, INS always writes ES:rDI, OUTS reads
 * seg:rSI (override allowed); every element commits registers so a fault
 * leaves them at the completed iterations; at most IO_REP_CHUNK elements
 * run per call, then rip = ip_start re-executes the instruction so pending
 * interrupts are taken. INS checks that the memory write will succeed before
 * it reads the port (a port read has side effects).
 *
 * Not done yet: I/O breakpoints (dbg_match_io, cpu/debug.h) are not
 * reported as #DB traps.
 */
#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/ops_sys.h"
#include "cpu/virt.h"

#define IO_REP_CHUNK 4096

/* Port width: 1 for the byte opcodes (even), else 2 or 4. */
static inline unsigned io_size(const struct insn *in)
{
	if (!(in->op & 1))
		return 1;
	return in->osz == 2 ? 2 : 4;
}

static inline void io_check(struct cpu *cpu, uint16_t port, unsigned size)
{
	if (cpu->mode != MODE_REAL)
		cpu_io_check(cpu, port, size);
}

/* The I/O intercept, after the permission check (SDM Vol. 3C §26.1.1). */
static inline void io_icpt(struct cpu *cpu, const struct insn *in, uint16_t port, unsigned size,
			   bool dir_in, bool string)
{
	if (__builtin_expect((cpu->icpt & ICPT_BIT(ICPT_IO)) != 0, 0)) {
		struct icpt_info info = { .insn = in,
					  .index = port,
					  .size = (uint8_t)size,
					  .in = dir_in,
					  .string = string,
					  .rep = (in->pfx & (PFX_REP | PFX_REPNE)) != 0 };
		cpu->virt->intercept(cpu, ICPT_IO, &info);
	}
}

static inline void set_acc(struct cpu *cpu, unsigned size, uint32_t v)
{
	switch (size) {
	case 1:
		reg8_set(cpu, R_AX, false, (uint8_t)v);
		break;
	case 2:
		reg16_set(cpu, R_AX, (uint16_t)v);
		break;
	default:
		reg32_set(cpu, R_AX, v);
		break;
	}
}

static inline uint32_t get_acc(const struct cpu *cpu, unsigned size)
{
	uint64_t v = cpu->gpr[R_AX];
	return size == 1 ? (uint8_t)v : size == 2 ? (uint16_t)v : (uint32_t)v;
}

static void op_in_imm(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in);
	uint16_t port = (uint8_t)in->imm;
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, true, false);
	set_acc(cpu, size, cpu_io_read(cpu, port, size));
}

static void op_in_dx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in);
	uint16_t port = (uint16_t)cpu->gpr[R_DX];
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, true, false);
	set_acc(cpu, size, cpu_io_read(cpu, port, size));
}

static void op_out_imm(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in);
	uint16_t port = (uint8_t)in->imm;
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, false, false);
	cpu_io_write(cpu, port, size, get_acc(cpu, size));
}

static void op_out_dx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in);
	uint16_t port = (uint16_t)cpu->gpr[R_DX];
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, false, false);
	cpu_io_write(cpu, port, size, get_acc(cpu, size));
}

static inline uint64_t rget(const struct cpu *cpu, int r, unsigned asz)
{
	return reg_get(cpu, r, (int)asz);
}

static inline void radv(struct cpu *cpu, int r, unsigned asz, int64_t d)
{
	reg_set(cpu, r, (int)asz, cpu->gpr[r] + (uint64_t)d);
}

static inline bool is_rep(const struct insn *in)
{
	return (in->pfx & (PFX_REP | PFX_REPNE)) != 0;
}

static inline void ins_one(struct cpu *cpu, const struct insn *in, uint16_t port, unsigned size,
			   int64_t d)
{
	uint64_t di = rget(cpu, R_DI, in->asz);
	cpu_probe_write(cpu, S_ES, di, size);
	uint32_t v = cpu_io_read(cpu, port, size);
	cpu_wr(cpu, S_ES, di, size, v);
	radv(cpu, R_DI, in->asz, d);
}

static inline void outs_one(struct cpu *cpu, const struct insn *in, uint16_t port, unsigned size,
			    int64_t d)
{
	uint32_t v = (uint32_t)cpu_rd(cpu, in->seg, rget(cpu, R_SI, in->asz), size);
	cpu_io_write(cpu, port, size, v);
	radv(cpu, R_SI, in->asz, d);
}

static void op_ins(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in), asz = in->asz;
	uint16_t port = (uint16_t)cpu->gpr[R_DX];
	int64_t d = (cpu->rflags & F_DF) ? -(int64_t)size : (int64_t)size;
	if (!is_rep(in)) {
		io_check(cpu, port, size);
		io_icpt(cpu, in, port, size, true, true);
		ins_one(cpu, in, port, size, d);
		return;
	}
	if (rget(cpu, R_CX, asz) == 0)
		return;
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, true, true);
	for (int n = 0; n < IO_REP_CHUNK; n++) {
		if (rget(cpu, R_CX, asz) == 0)
			return;
		ins_one(cpu, in, port, size, d);
		reg_set(cpu, R_CX, (int)asz, cpu->gpr[R_CX] - 1);
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

static void op_outs(struct cpu *cpu, const struct insn *in)
{
	unsigned size = io_size(in), asz = in->asz;
	uint16_t port = (uint16_t)cpu->gpr[R_DX];
	int64_t d = (cpu->rflags & F_DF) ? -(int64_t)size : (int64_t)size;
	if (!is_rep(in)) {
		io_check(cpu, port, size);
		io_icpt(cpu, in, port, size, false, true);
		outs_one(cpu, in, port, size, d);
		return;
	}
	if (rget(cpu, R_CX, asz) == 0)
		return;
	io_check(cpu, port, size);
	io_icpt(cpu, in, port, size, false, true);
	for (int n = 0; n < IO_REP_CHUNK; n++) {
		if (rget(cpu, R_CX, asz) == 0)
			return;
		outs_one(cpu, in, port, size, d);
		reg_set(cpu, R_CX, (int)asz, cpu->gpr[R_CX] - 1);
	}
	if (rget(cpu, R_CX, asz) != 0)
		cpu->rip = cpu->ip_start;
}

#define A    OPT_ANY
#define MODA OPT_MOD_ANY

static const struct optab_entry io_ops[] = {
	{ 0x0e4, A, A, A, MODA, 0, A, 0, 0, op_in_imm, "in" },
	{ 0x0e5, A, A, A, MODA, 0, A, 0, 0, op_in_imm, "in" },
	{ 0x0e6, A, A, A, MODA, 0, A, 0, 0, op_out_imm, "out" },
	{ 0x0e7, A, A, A, MODA, 0, A, 0, 0, op_out_imm, "out" },
	{ 0x0ec, A, A, A, MODA, 0, A, 0, 0, op_in_dx, "in" },
	{ 0x0ed, A, A, A, MODA, 0, A, 0, 0, op_in_dx, "in" },
	{ 0x0ee, A, A, A, MODA, 0, A, 0, 0, op_out_dx, "out" },
	{ 0x0ef, A, A, A, MODA, 0, A, 0, 0, op_out_dx, "out" },
	{ 0x06c, A, A, A, MODA, 0, A, 0, 0, op_ins, "ins" },
	{ 0x06d, A, A, A, MODA, 0, A, 0, 0, op_ins, "ins" },
	{ 0x06e, A, A, A, MODA, 0, A, 0, 0, op_outs, "outs" },
	{ 0x06f, A, A, A, MODA, 0, A, 0, 0, op_outs, "outs" },
};

void ops_sys_io_register(void)
{
	optab_add_many(io_ops, (int)(sizeof(io_ops) / sizeof(io_ops[0])));
}
