/*
 * cpu/debug.h — debug-register breakpoint matching (Intel SDM Vol. 3 ch. 17,
 * AMD APM Vol. 2 ch. 13). Pure helpers over cpu->dr[] and CR4.DE; the
 * execution loop and the memory slow path decide when to call them and raise
 * #DB (cpu/debug.c explains how).
 *
 * DR7 layout:
 *   bit  0..7   L0 G0 L1 G1 L2 G2 L3 G3   local/global enable per breakpoint
 *   bit  8, 9   LE GE                      (ignored by modern CPUs)
 *   bit 10      reads as 1
 *   bit 13      GD: MOV DR raises #DB (DR6.BD) while set
 *   bits 16+4n  R/Wn: 00 execute, 01 write, 10 I/O (CR4.DE=1), 11 read/write
 *   bits 18+4n  LENn: 00 1 byte, 01 2, 11 4, 10 8 bytes
 * DR6: B0..B3 (bits 0-3) which breakpoints hit, BD (13) GD hit, BS (14)
 * single step, BT (15) task switch; other bits read as fixed values
 * (DR6_FIXED1).
 */
#ifndef NESTBOX_CPU_DEBUG_H
#define NESTBOX_CPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

#define DR6_B_MASK      0xfull
#define DR6_BD          (1ull << 13)
#define DR6_BS          (1ull << 14)
#define DR6_BT          (1ull << 15)
#define DR6_FIXED1      0xffff0ff0ull /* reserved bits that read as 1 (RTM bit 16 too) */
#define DR6_WRITABLE    (DR6_B_MASK | DR6_BD | DR6_BS | DR6_BT)
#define DR7_ENABLE_MASK 0xffull
#define DR7_GD          (1ull << 13)
#define DR7_FIXED1      (1ull << 10)
/* Reserved DR7 bits that must read 0 (11, 12, 14, 15). */
#define DR7_RSVD0 0xd800ull

/* cpu->dbg_hits carries the DR6 B-bits (3:0) of the current instruction and
 * two single-step overrides. SYSCALL and SYSRET take their single-step trap
 * according to TF at the END of the instruction (so an OS can mask TF with
 * IA32_FMASK, and SYSRET restoring TF=1 traps right after it) instead of TF
 * at its start like every other instruction; and a software interrupt or
 * exception (INT n, INT3, INTO, INT1) that is delivered takes none: the
 * handler is entered with TF clear and the pushed TF=1 resumes stepping
 * after the IRET (what kvm-unit-tests' debug test sees on hardware):
 *   DBG_SS_SUPPRESS  no single-step trap for this instruction;
 *   DBG_SS_FORCE     TF was 0 before and is 1 after: trap after it (with
 *                    PEND_DEBUG, so the loop delivers it before anything
 *                    else when the instruction ran inside a block). */
#define DBG_SS_SUPPRESS 0x10u
#define DBG_SS_FORCE    0x20u

static inline void dbg_single_step_at_end(struct cpu *cpu, bool tf_before)
{
	bool tf_after = (cpu->rflags & F_TF) != 0;
	if (tf_before && !tf_after)
		cpu->dbg_hits |= DBG_SS_SUPPRESS;
	else if (!tf_before && tf_after) {
		cpu->dbg_hits |= DBG_SS_FORCE;
		cpu->pending |= PEND_DEBUG;
	}
}

/* Before a software interrupt's delivery: no single-step trap after it (TF
 * = 1 means the loop runs this instruction through its debug path, which
 * consumes the flag). */
static inline void dbg_soft_int(struct cpu *cpu)
{
	if (cpu->rflags & F_TF)
		cpu->dbg_hits |= DBG_SS_SUPPRESS;
}

/* INT1 (ICEBP) right after a MOV SS / POP SS that hit a data breakpoint:
 * the deferred trap and ICEBP's own #DB are delivered as ONE #DB, with the
 * B-bits in DR6 (INT n and INT3 deliver the trap separately). */
static inline void dbg_int1(struct cpu *cpu)
{
	unsigned b = cpu->dbg_hits & DR6_B_MASK;
	if (b) {
		cpu->dr[6] = (cpu->dr[6] & ~DR6_B_MASK) | b;
		cpu->dbg_hits &= (uint8_t)~DR6_B_MASK;
	}
	dbg_soft_int(cpu);
}

/* Set DR6 for a #DB about to be raised: clear, then set these bits; the
 * previous DR6 and the new bits are kept for a hypervisor whose #DB VM exit
 * reports the bits and leaves DR6 alone (vmx/vmx_exit.c). */
static inline void dbg_fault_dr6(struct cpu *cpu, uint64_t clear, uint64_t set)
{
	cpu->dbg_dr6_before = cpu->dr[6];
	cpu->dbg_dr6_new = (uint32_t)set;
	cpu->dr[6] = (cpu->dr[6] & ~clear) | set;
}

/* Any breakpoint enabled in DR7 (cheap test for the loop's slow path). */
static inline bool dbg_armed(const struct cpu *cpu)
{
	return (cpu->dr[7] & DR7_ENABLE_MASK) != 0;
}

/* DR6 B-bits of the enabled instruction breakpoints at linear address lin.
 * 0 if none. */
int dbg_match_exec(const struct cpu *cpu, uint64_t lin);
/* DR6 B-bits of the enabled data breakpoints that the access [lin,
 * lin+size) triggers (write breakpoints only when is_write). */
int dbg_match_data(const struct cpu *cpu, uint64_t lin, unsigned size, bool is_write);
/* DR6 B-bits of the enabled I/O breakpoints (CR4.DE=1, R/W=10) that an IN,
 * OUT, INS or OUTS of size bytes at port triggers. */
int dbg_match_io(const struct cpu *cpu, uint16_t port, unsigned size);

#endif
