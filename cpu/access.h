/*
 * cpu/access.h — guest memory and operand access for instruction handlers.
 *
 * Layers (each raises the architectural fault through cpu_exception):
 *   seg:off   cpu_rd, cpu_wr        segmentation (limit, rights, canonical
 *                                  checks in 64-bit mode) then linear access
 *   linear    lin_rd/lin_wr        soft TLB fast path (host pointer for RAM);
 *                                  slow path walks page tables (mmu/walk.h),
 *                                  does MMIO, A/D bits, code-page tracking
 *   operands  rm_read/rm_write     ModRM operand: register or memory
 *
 * Sizes are in bytes: 1, 2, 4 or 8 for the scalar calls; cpu_rdn/cpu_wrn copy
 * any size (16 for XMM, 10 for x87, 512 for FXSAVE) and, for writes, check the
 * whole range before writing anything so a fault commits nothing.
 * Accesses that cross a page boundary are split correctly by the slow path.
 */
#ifndef NESTBOX_CPU_ACCESS_H
#define NESTBOX_CPU_ACCESS_H

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "mmu/tlb.h"

#include <string.h>

/* The fast paths below must inline into handlers: an out-of-line copy per
 * file costs a call on every operand. */
#define ACCESS_INLINE static inline __attribute__((always_inline))

/* Access kinds (low 2 bits) and modifiers. */
#define ACC_READ  0
#define ACC_WRITE 1
#define ACC_EXEC  2
#define ACC_KIND  3
#define ACC_SYS   4 /* implicit supervisor access (GDT/LDT/IDT/TSS), any CPL */

/* Effective address (offset in insn->seg) of the memory operand, wrapped to
 * the address size. */
ACCESS_INLINE uint64_t insn_ea(const struct cpu *c, const struct insn *in)
{
	uint64_t ea = (uint64_t)(int64_t)in->disp;
	if (in->base != R_NONE)
		ea += in->base == BASE_RIP ? c->rip : c->gpr[in->base];
	if (in->index != R_NONE)
		ea += c->gpr[in->index] << in->scale;
	if (in->asz == 8)
		return ea;
	return in->asz == 4 ? (ea & 0xffffffffull) : (ea & 0xffff);
}

/* Segment checks for an access of size bytes at seg:off; returns the linear
 * address. Raises #GP(0) or #SS(0) (SS, or SS-based) on violation. */

/* Out-of-line slow paths (page walk, MMIO, page-straddling, faults) and the
 * general segment check. */
uint64_t seg_lin_slow(struct cpu *cpu, int seg, uint64_t off, unsigned size, int acc);
uint64_t lin_rd_slow(struct cpu *cpu, uint64_t lin, unsigned size, int acc);
void lin_wr_slow(struct cpu *cpu, uint64_t lin, unsigned size, uint64_t v, int acc);

/* Soft-TLB context of an access (see mmu/tlb.h). */
ACCESS_INLINE int tlb_ctx(const struct cpu *c, int acc)
{
	if (acc & ACC_SYS)
		return TLB_SUP;
	if (c->cpl == 3)
		return __builtin_expect((c->rflags & F_AC) && (c->cr0 & CR0_AM), 0) &&
				       (acc & ACC_KIND) != ACC_EXEC
			       ? TLB_USER_AC
			       : TLB_USER;
	/* SMAP's AC override concerns data accesses only. */
	if ((acc & ACC_KIND) == ACC_EXEC)
		return TLB_SUP;
	return (c->rflags & F_AC) ? TLB_SUP_AC : TLB_SUP;
}

/* Segment checks for an access of size bytes at seg:off; returns the linear
 * address. Raises #GP(0) or #SS(0) (SS, or SS-based) on violation. In 64-bit
 * mode only FS/GS have a base; an address that is canonical at 48 bits is
 * canonical at 57 too, so only the rare cases go out of line. */
ACCESS_INLINE uint64_t seg_lin(struct cpu *c, int seg, uint64_t off, unsigned size, int acc)
{
	if (__builtin_expect(c->mode == MODE_LONG64, 1)) {
		uint64_t lin = seg >= S_FS ? c->seg[seg].base + off : off;
		uint64_t last = lin + size - 1;
		if (__builtin_expect((uint64_t)((int64_t)(lin << 16) >> 16) == lin &&
					     (uint64_t)((int64_t)(last << 16) >> 16) == last,
				     1))
			return lin;
	}
	return seg_lin_slow(c, seg, off, size, acc);
}

ACCESS_INLINE uint64_t access_load(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

ACCESS_INLINE void access_store(uint8_t *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2: {
		uint16_t w = (uint16_t)v;
		memcpy(p, &w, 2);
		break;
	}
	case 4: {
		uint32_t w = (uint32_t)v;
		memcpy(p, &w, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
	}
}

/* Linear accesses. acc: ACC_READ/WRITE/EXEC, optionally | ACC_SYS. */
ACCESS_INLINE uint64_t lin_rd(struct cpu *c, uint64_t lin, unsigned size, int acc)
{
	if (__builtin_expect((lin & 0xfff) + size <= 0x1000, 1)) {
		uint8_t *p = tlb_lookup(c->tlb, tlb_ctx(c, acc), acc & ACC_KIND, lin);
		if (__builtin_expect(p != 0, 1))
			return access_load(p, size);
	}
	return lin_rd_slow(c, lin, size, acc);
}

ACCESS_INLINE void lin_wr(struct cpu *c, uint64_t lin, unsigned size, uint64_t v, int acc)
{
	acc = (acc & ~ACC_KIND) | ACC_WRITE;
	if (__builtin_expect((lin & 0xfff) + size <= 0x1000, 1)) {
		uint8_t *p = tlb_lookup(c->tlb, tlb_ctx(c, acc), TLB_W, lin);
		if (__builtin_expect(p != 0, 1)) {
			access_store(p, size, v);
			return;
		}
	}
	lin_wr_slow(c, lin, size, v, acc);
}
void lin_rdn(struct cpu *cpu, uint64_t lin, void *buf, unsigned n, int acc);
void lin_wrn(struct cpu *cpu, uint64_t lin, const void *buf, unsigned n, int acc);
/* Fault now (without side effects) unless a write of n bytes would succeed. */
void lin_probe_write(struct cpu *cpu, uint64_t lin, unsigned n, int acc);

/* Segment-relative accesses. */
ACCESS_INLINE uint64_t cpu_rd(struct cpu *c, int seg, uint64_t off, unsigned size)
{
	return lin_rd(c, seg_lin(c, seg, off, size, ACC_READ), size, ACC_READ);
}
ACCESS_INLINE void cpu_wr(struct cpu *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
	lin_wr(c, seg_lin(c, seg, off, size, ACC_WRITE), size, v, ACC_WRITE);
}
void cpu_rdn(struct cpu *cpu, int seg, uint64_t off, void *buf, unsigned n);
void cpu_wrn(struct cpu *cpu, int seg, uint64_t off, const void *buf, unsigned n);
void cpu_probe_write(struct cpu *cpu, int seg, uint64_t off, unsigned n);

static inline uint8_t cpu_rd8(struct cpu *c, int s, uint64_t o)
{
	return (uint8_t)cpu_rd(c, s, o, 1);
}
static inline uint16_t cpu_rd16(struct cpu *c, int s, uint64_t o)
{
	return (uint16_t)cpu_rd(c, s, o, 2);
}
static inline uint32_t cpu_rd32(struct cpu *c, int s, uint64_t o)
{
	return (uint32_t)cpu_rd(c, s, o, 4);
}
static inline uint64_t cpu_rd64(struct cpu *c, int s, uint64_t o)
{
	return cpu_rd(c, s, o, 8);
}
static inline void cpu_wr8(struct cpu *c, int s, uint64_t o, uint8_t v)
{
	cpu_wr(c, s, o, 1, v);
}
static inline void cpu_wr16(struct cpu *c, int s, uint64_t o, uint16_t v)
{
	cpu_wr(c, s, o, 2, v);
}
static inline void cpu_wr32(struct cpu *c, int s, uint64_t o, uint32_t v)
{
	cpu_wr(c, s, o, 4, v);
}
static inline void cpu_wr64(struct cpu *c, int s, uint64_t o, uint64_t v)
{
	cpu_wr(c, s, o, 8, v);
}

/* ModRM r/m operand of size bytes (1 honours REX for SPL..DIL / AH..BH).
 * Inline: the register forms are the interpreter's hottest path. */
ACCESS_INLINE uint64_t reg_read(const struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (size == 1)
		return reg8_get(cpu, in->reg, in->pfx & PFX_REX);
	return reg_get(cpu, in->reg, (int)size);
}
ACCESS_INLINE void reg_write(struct cpu *cpu, const struct insn *in, unsigned size, uint64_t v)
{
	if (size == 1)
		reg8_set(cpu, in->reg, in->pfx & PFX_REX, (uint8_t)v);
	else
		reg_set(cpu, in->reg, (int)size, v);
}
ACCESS_INLINE uint64_t rm_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (in->mod == 3) {
		if (size == 1)
			return reg8_get(cpu, in->rm, in->pfx & PFX_REX);
		return reg_get(cpu, in->rm, (int)size);
	}
	return cpu_rd(cpu, in->seg, insn_ea(cpu, in), size);
}
ACCESS_INLINE void rm_write(struct cpu *cpu, const struct insn *in, unsigned size, uint64_t v)
{
	if (in->mod == 3) {
		if (size == 1)
			reg8_set(cpu, in->rm, in->pfx & PFX_REX, (uint8_t)v);
		else
			reg_set(cpu, in->rm, (int)size, v);
		return;
	}
	cpu_wr(cpu, in->seg, insn_ea(cpu, in), size, v);
}

/* Stack: size 2, 4 or 8; uses SS with the stack address size (SS.B, or 64
 * in long mode). cpu_push writes memory before RSP changes (precise). */
void cpu_push(struct cpu *cpu, unsigned size, uint64_t v);
uint64_t cpu_pop(struct cpu *cpu, unsigned size);
/* Read the stack at RSP+off without changing RSP (for far RET/IRET that must
 * check everything before committing). */
uint64_t cpu_stack_peek(struct cpu *cpu, unsigned size, uint64_t off);
/* Stack pointer width in bytes (2, 4 or 8) for the current SS/mode. */
unsigned cpu_stack_width(const struct cpu *cpu);
/* RSP += delta, wrapped to the stack width. */
void cpu_stack_adjust(struct cpu *cpu, int64_t delta);

/* Inline forms of the above for the hot handlers (PUSH/POP/CALL/RET): in
 * 64-bit mode the stack is 8 bytes wide with no wrap, so they reduce to a
 * cpu_rd/cpu_wr plus an RSP update; other modes take the functions. */
ACCESS_INLINE void cpu_push_fast(struct cpu *c, unsigned size, uint64_t v)
{
	if (__builtin_expect(c->mode == MODE_LONG64, 1)) {
		uint64_t sp = c->gpr[R_SP] - size;
		cpu_wr(c, S_SS, sp, size, v);
		c->gpr[R_SP] = sp;
		return;
	}
	cpu_push(c, size, v);
}
ACCESS_INLINE uint64_t cpu_pop_fast(struct cpu *c, unsigned size)
{
	if (__builtin_expect(c->mode == MODE_LONG64, 1)) {
		uint64_t sp = c->gpr[R_SP];
		uint64_t v = cpu_rd(c, S_SS, sp, size);
		c->gpr[R_SP] = sp + size;
		return v;
	}
	return cpu_pop(c, size);
}
ACCESS_INLINE uint64_t cpu_stack_peek_fast(struct cpu *c, unsigned size, uint64_t off)
{
	if (__builtin_expect(c->mode == MODE_LONG64, 1))
		return cpu_rd(c, S_SS, c->gpr[R_SP] + off, size);
	return cpu_stack_peek(c, size, off);
}
ACCESS_INLINE void cpu_stack_adjust_fast(struct cpu *c, int64_t delta)
{
	if (__builtin_expect(c->mode == MODE_LONG64, 1))
		c->gpr[R_SP] += (uint64_t)delta;
	else
		cpu_stack_adjust(c, delta);
}

/* Instruction fetch of n bytes at CS:rip (decoder use). */
void cpu_fetch(struct cpu *cpu, uint64_t ip, void *buf, unsigned n);

/* Port I/O through the machine's I/O space (devices/ioport.h). Permission
 * checks (IOPL/TSS bitmap, VMX/SVM intercepts) are the caller's job; see
 * cpu_io_check. */
uint32_t cpu_io_read(struct cpu *cpu, uint16_t port, unsigned size);
void cpu_io_write(struct cpu *cpu, uint16_t port, unsigned size, uint32_t v);
/* #GP(0) unless CPL <= IOPL (and not V86) or the TSS I/O bitmap allows it. */
void cpu_io_check(struct cpu *cpu, uint16_t port, unsigned size);

#endif
