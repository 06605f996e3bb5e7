/*
 * cpu/seg.h — segment descriptors, segment-register loading and the
 * protected-mode control-transfer helpers shared by far JMP/CALL/RET, INT,
 * IRET, SYSCALL/SYSENTER and the task switch (Intel SDM Vol. 3 ch. 3, 5, 6, 7).
 *
 * Descriptors are handled as raw 64-bit little-endian values (struct seg in
 * cpu/cpu.h is the loaded, hidden form). The hidden attribute word uses the
 * VMX access-rights layout, which is exactly bits 40-55 of a descriptor with
 * bits 8-11 (limit 19:16) masked out:
 *
 *   descriptor bit  40-43 44 45-46 47 | 48-51       | 52  53 54  55
 *   attr bit         0-3   4  5-6   7 | 8-11 (zero) | 12  13 14  15
 *                   type   S  DPL   P |             | AVL L  D/B G
 *
 * Users: cpu/ops_prot.c, cpu/ops_far.c, cpu/intr.c, cpu/iret.c, cpu/task.c,
 * and VMX/SVM state load/save (seg_from_desc, attr helpers, seg_set_*).
 */
#ifndef NESTBOX_CPU_SEG_H
#define NESTBOX_CPU_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* ---- raw descriptor fields (SDM Vol. 3 §3.4.5, Figure 3-8) ---- */

static inline uint32_t desc_base(uint64_t d)
{
	return (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
}
/* Byte limit with the granularity bit applied. */
static inline uint32_t desc_limit(uint64_t d)
{
	uint32_t l = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	return (d & (1ull << 55)) ? (l << 12) | 0xfff : l;
}
static inline uint32_t desc_attr(uint64_t d)
{
	return (uint32_t)(d >> 40) & 0xf0ff;
}
/* Gate descriptor fields (§5.8.3, §6.11). */
static inline uint16_t gate_sel(uint64_t g)
{
	return (uint16_t)(g >> 16);
}
static inline uint32_t gate_off(uint64_t g)
{
	return (uint32_t)((g & 0xffff) | ((g >> 32) & 0xffff0000));
}
static inline unsigned gate_params(uint64_t g)
{
	return (unsigned)(g >> 32) & 0x1f;
}
static inline unsigned gate_ist(uint64_t g)
{
	return (unsigned)(g >> 32) & 7;
}

/* ---- attribute helpers (attr in the struct seg layout) ---- */

static inline unsigned attr_type(uint32_t a)
{
	return a & SEG_ATTR_TYPE;
}
static inline unsigned attr_dpl(uint32_t a)
{
	return (a >> SEG_ATTR_DPL_SHIFT) & 3;
}
static inline bool attr_present(uint32_t a)
{
	return a & SEG_ATTR_P;
}
/* S = 1: code or data segment; S = 0: system descriptor or gate. */
static inline bool attr_is_seg(uint32_t a)
{
	return a & SEG_ATTR_S;
}
static inline bool attr_is_code(uint32_t a)
{
	return (a & SEG_ATTR_S) && (a & 8);
}
static inline bool attr_is_data(uint32_t a)
{
	return (a & SEG_ATTR_S) && !(a & 8);
}
static inline bool attr_conforming(uint32_t a)
{
	return attr_is_code(a) && (a & 4);
}
static inline bool attr_readable(uint32_t a) /* data, or readable code */
{
	return (a & SEG_ATTR_S) && (!(a & 8) || (a & 2));
}
static inline bool attr_writable_data(uint32_t a)
{
	return attr_is_data(a) && (a & 2);
}
static inline bool attr_expand_down(uint32_t a)
{
	return attr_is_data(a) && (a & 4);
}

/* System descriptor types (S = 0), SDM Vol. 3 Table 3-2. In IA-32e mode
 * only LDT, 64-bit TSS (9/11), call gate (12), interrupt/trap gate (14/15). */
enum {
	SYS_TSS16 = 1,
	SYS_LDT = 2,
	SYS_TSS16_BUSY = 3,
	SYS_CALLGATE16 = 4,
	SYS_TASKGATE = 5,
	SYS_INTGATE16 = 6,
	SYS_TRAPGATE16 = 7,
	SYS_TSS32 = 9,
	SYS_TSS32_BUSY = 11,
	SYS_CALLGATE32 = 12,
	SYS_INTGATE32 = 14,
	SYS_TRAPGATE32 = 15
};

/* Fill s from a descriptor (base 31:0, expanded limit, attr). */
static inline void seg_from_desc(struct seg *s, uint16_t sel, uint64_t d)
{
	s->sel = sel;
	s->base = desc_base(d);
	s->limit = desc_limit(d);
	s->attr = desc_attr(d);
}

/* Is [off, off+n-1] inside the segment limit (expand-down aware, §5.3)?
 * Callers skip this in 64-bit mode. */
static inline bool seg_range_ok(const struct seg *s, uint64_t off, unsigned n)
{
	uint64_t last = off + n - 1;
	if (attr_expand_down(s->attr)) {
		uint64_t top = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
		return off > s->limit && last <= top && last >= off;
	}
	return last <= s->limit && last >= off;
}

/* ---- descriptor tables ---- */

/* Read the 8-byte descriptor for sel from the GDT or LDT (ACC_SYS reads).
 * Returns false (nothing read) if the selector's index is outside the table
 * limit or TI = 1 with an unusable LDTR; the caller raises its own fault.
 * *addr receives the descriptor's linear address (may be NULL). */
bool seg_read_desc(struct cpu *cpu, uint16_t sel, uint64_t *desc, uint64_t *addr);
/* Same for a 16-byte system descriptor (IA-32e mode LDT/TSS/call gate):
 * d[0] low half, d[1] high half. */
bool seg_read_desc16(struct cpu *cpu, uint16_t sel, uint64_t d[2], uint64_t *addr);
/* Set the accessed bit (type bit 0) of a code/data descriptor in memory if it
 * is clear, updating *desc too. */
void seg_set_accessed(struct cpu *cpu, uint64_t addr, uint64_t *desc);
/* Set or clear the busy bit of the TSS descriptor of sel in the GDT. */
void seg_set_tss_busy(struct cpu *cpu, uint16_t sel, bool busy);

/* ---- loading segment registers ---- */

/*
 * Check a selector for DS/ES/FS/GS/SS (sreg) as MOV/POP/LxS do in protected
 * mode (SDM Vol. 2 MOV, Vol. 3 §5.5-5.7) at privilege cpl and return the
 * hidden part in *out without touching the segment register. Sets the
 * accessed bit. Faults: "general" violations raise vec (EXC_GP for
 * instructions, EXC_TS for a task switch) with error code (sel & ~3) | ext;
 * not present raises #SS (SS) or #NP (others). A null selector gives an
 * unusable segment (SS: only in 64-bit mode at cpl < 3 with RPL = cpl, else
 * vec(0|ext)).
 */
void seg_check_data(struct cpu *cpu, int sreg, uint16_t sel, unsigned cpl, int vec, uint32_t ext,
		    struct seg *out);
/* Store a checked hidden part into sreg. For SS/CS this also updates CPL and
 * mode state (cpu_update_mode, PEND_MODE). For CS, cpl is the new CPL (the
 * caller has put it into sel's RPL). */
void seg_commit(struct cpu *cpu, int sreg, const struct seg *s);
/* MOV/POP/LxS semantics in the current mode: real mode, V86 or protected
 * checks at the current CPL with #GP. Never CS. */
void seg_load(struct cpu *cpu, int sreg, uint16_t sel);
/* Real-mode load: base = sel << 4, selector; limit and most attributes are
 * kept (SDM §20.1.1: "big real mode"), the segment becomes present/usable. */
void seg_set_real(struct cpu *cpu, int sreg, uint16_t sel);
/* V86 load: base = sel << 4, limit 0xffff, attr 0xf3 (SDM §26.3.1.2). */
void seg_set_v86(struct cpu *cpu, int sreg, uint16_t sel);
/* Load a null selector: segment unusable (in 64-bit mode FS/GS base is
 * cleared, as Intel CPUs and AMD Zen 3+ do). */
void seg_set_null(struct cpu *cpu, int sreg, uint16_t sel);
/* Fill *s as an unusable (null) segment with selector sel and DPL dpl (a
 * null SS keeps DPL = CPL, which VMX/SVM state checks rely on). */
void seg_make_null(struct seg *s, uint16_t sel, unsigned dpl);
/* After a return to an outer privilege level (RET far, IRET): null every one
 * of ES/DS/FS/GS that is a data or non-conforming code segment with
 * DPL < CPL (SDM Vol. 2 RET, IRET). cpu->cpl must be the new CPL. */
void seg_null_outer(struct cpu *cpu);

/* ---- control-transfer helpers (cpu/ops_far.c, intr.c, iret.c) ---- */

/* Check sel/desc as the target of a far RET or IRET to privilege rpl = sel&3
 * (code segment, DPL rules, present): #GP(sel)/#NP(sel). Sets accessed. */
void seg_check_ret_cs(struct cpu *cpu, uint16_t sel, struct seg *out);
/* Check a new SS for a stack switch at privilege cpl (RPL = DPL = cpl,
 * writable data, present): vec(sel|ext) / #SS(sel|ext). Null selector is
 * accepted only in IA-32e mode when allow_null (then *out is unusable with
 * DPL = cpl). */
void seg_check_stack(struct cpu *cpu, uint16_t sel, unsigned cpl, int vec, uint32_t ext,
		     bool allow_null, struct seg *out);

/* Read the inner stack pointer for privilege level dpl from the current TSS
 * (16- or 32-bit TSS, SDM §7.2.1); in IA-32e mode ist != 0 selects IST[ist]
 * and *ss is a null selector. Faults #TS(TR.sel|ext) if outside the TSS. */
void tss_inner_stack(struct cpu *cpu, unsigned dpl, unsigned ist, uint32_t ext, uint16_t *ss,
		     uint64_t *sp);

/* A stack being built before it is committed: frame pushes check the whole
 * range first (limit + write probe), so a fault leaves registers untouched. */
struct stk {
	struct seg ss;
	uint64_t sp;
	uint64_t mask; /* 0xffff, 0xffffffff or ~0 (stack address size) */
	bool is64;     /* 64-bit mode: no limit check, canonical check */
	uint32_t err;  /* #SS error code on limit violation */
	int acc;       /* ACC_WRITE, | ACC_SYS for an inner-privilege stack */
};
/* Prepare the stack described by ss/sp for pushes. */
void stk_init(struct stk *k, struct cpu *cpu, const struct seg *ss, uint64_t sp, bool is64,
	      uint32_t err, bool sys);
/* Check that total bytes can be pushed (limit, canonical, paging). */
void stk_reserve(struct cpu *cpu, struct stk *k, unsigned total);
/* Push after stk_reserve (cannot fault for reserved bytes). */
void stk_push(struct cpu *cpu, struct stk *k, unsigned size, uint64_t v);
/* Commit: SS = k->ss if load_ss, and RSP = k->sp (only the low 16 bits
 * when the stack is 16-bit, zero-extended when it is 32-bit). */
void stk_commit(struct cpu *cpu, const struct stk *k, bool load_ss);

/* Set CS (checked hidden part, RPL = new CPL) and RIP in one go; handles mode
 * and CPL changes. */
void cpu_set_cs_rip(struct cpu *cpu, const struct seg *cs, uint64_t rip);

/* ---- task switch (cpu/task.c, SDM Vol. 3 §7.3) ---- */

enum task_reason {
	TASK_JMP,
	TASK_CALL,
	TASK_IRET,
	TASK_INT
};
/* Switch to the task whose TSS selector is sel (desc = its GDT descriptor,
 * already checked to be a TSS by the caller for gates; task_switch checks
 * busy/limit/present). ext is the EXT bit for error codes. For TASK_INT,
 * errcode (or NO_ERRCODE) is pushed on the new task's stack. */
void task_switch(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why, uint32_t ext,
		 uint32_t errcode);

/* ---- far transfers used by other families (cpu/ops_far.c) ---- */

/* Far JMP/CALL to sel:off in the current mode (real/V86/protected/long,
 * gates, tasks). call: push the return address with operand size osz. */
void far_jump(struct cpu *cpu, uint16_t sel, uint64_t off, unsigned osz);
void far_call(struct cpu *cpu, uint16_t sel, uint64_t off, unsigned osz);

#endif
