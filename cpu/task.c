/*
 * cpu/task.c — hardware task switch (Intel SDM Vol. 3 §7.3, Vol. 2 "JMP",
 * "CALL", "INT n", "IRET" task cases) through a TSS descriptor or task gate,
 * for 16-bit and 32-bit TSSs. Not available in IA-32e mode (#GP).
 *
 * Order (SDM §7.3 steps): every check that must leave the old task intact
 * and every read of the new TSS happens first; then the old task's state is
 * saved, busy bits / NT / back link are updated, TR, CR3, EFLAGS, EIP and
 * the general registers are loaded. From that point faults belong to the new
 * task: cpu->ip_start is moved to the new EIP before the segment registers
 * and the LDT are checked (#TS/#NP/#SS in the new context).
 *
 * TSS layouts (byte offsets):
 *   32-bit: 0 link, 4/8 ESP0/SS0 .. 14h/18h ESP2/SS2, 1Ch CR3, 20h EIP,
 *           24h EFLAGS, 28h-44h EAX..EDI, 48h-5Ch ES CS SS DS FS GS (4 each),
 *           60h LDT, 64h T (bit 0), 66h I/O map base.
 *   16-bit: 0 link, 2-0Ch SP0/SS0..SP2/SS2, 0Eh IP, 10h FLAGS,
 *           12h-20h AX..DI, 22h-28h ES CS SS DS, 2Ah LDT.
 */
#include "cpu/access.h"
#include "cpu/debug.h"
#include "cpu/flags.h"
#include "cpu/ops_sys.h"
#include "cpu/seg.h"
#include "cpu/virt.h"

struct task_state {
	uint32_t eip, eflags, cr3;
	uint32_t gpr[8];
	uint16_t sel[S_NSEG];
	uint16_t ldt;
	bool tbit;
};

static void read_tss(struct cpu *cpu, uint64_t base, bool is32, struct task_state *t)
{
	const int acc = ACC_READ | ACC_SYS;
	if (is32) {
		t->cr3 = (uint32_t)lin_rd(cpu, (uint32_t)(base + 0x1c), 4, acc);
		t->eip = (uint32_t)lin_rd(cpu, (uint32_t)(base + 0x20), 4, acc);
		t->eflags = (uint32_t)lin_rd(cpu, (uint32_t)(base + 0x24), 4, acc);
		for (int i = 0; i < 8; i++)
			t->gpr[i] = (uint32_t)lin_rd(cpu, (uint32_t)(base + 0x28 + 4 * i), 4, acc);
		for (int i = 0; i < S_NSEG; i++)
			t->sel[i] = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x48 + 4 * i), 2, acc);
		t->ldt = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x60), 2, acc);
		t->tbit = lin_rd(cpu, (uint32_t)(base + 0x64), 1, acc) & 1;
	} else {
		t->cr3 = 0;
		t->eip = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x0e), 2, acc);
		t->eflags = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x10), 2, acc);
		for (int i = 0; i < 8; i++)
			t->gpr[i] = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x12 + 2 * i), 2, acc);
		for (int i = 0; i < 4; i++)
			t->sel[i] = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x22 + 2 * i), 2, acc);
		t->sel[S_FS] = cpu->seg[S_FS].sel;
		t->sel[S_GS] = cpu->seg[S_GS].sel;
		t->ldt = (uint16_t)lin_rd(cpu, (uint32_t)(base + 0x2a), 2, acc);
		t->tbit = false;
	}
}

/* Save the dynamic fields of the outgoing task (§7.2.1). */
static void save_tss(struct cpu *cpu, uint64_t base, bool is32, uint32_t eflags)
{
	const int acc = ACC_WRITE | ACC_SYS;
	if (is32) {
		lin_probe_write(cpu, (uint32_t)(base + 0x20), 0x40, acc);
		lin_wr(cpu, (uint32_t)(base + 0x20), 4, (uint32_t)cpu->rip, acc);
		lin_wr(cpu, (uint32_t)(base + 0x24), 4, eflags, acc);
		for (int i = 0; i < 8; i++)
			lin_wr(cpu, (uint32_t)(base + 0x28 + 4 * i), 4, (uint32_t)cpu->gpr[i], acc);
		for (int i = 0; i < S_NSEG; i++)
			lin_wr(cpu, (uint32_t)(base + 0x48 + 4 * i), 2, cpu->seg[i].sel, acc);
	} else {
		lin_probe_write(cpu, (uint32_t)(base + 0x0e), 0x1c, acc);
		lin_wr(cpu, (uint32_t)(base + 0x0e), 2, (uint16_t)cpu->rip, acc);
		lin_wr(cpu, (uint32_t)(base + 0x10), 2, (uint16_t)eflags, acc);
		for (int i = 0; i < 8; i++)
			lin_wr(cpu, (uint32_t)(base + 0x12 + 2 * i), 2, (uint16_t)cpu->gpr[i], acc);
		for (int i = 0; i < 4; i++)
			lin_wr(cpu, (uint32_t)(base + 0x22 + 2 * i), 2, cpu->seg[i].sel, acc);
	}
}

/* LDTR of the new task (§7.3 step 13; faults are #TS(sel)). */
static void load_task_ldt(struct cpu *cpu, uint16_t sel, uint32_t ext)
{
	uint32_t ec = (sel & 0xfffc) | ext;
	uint64_t d;
	if (!(sel & 0xfffc)) {
		seg_make_null(&cpu->ldtr, sel, 0);
		return;
	}
	if ((sel & 4) || !seg_read_desc(cpu, sel, &d, NULL))
		cpu_exception(cpu, EXC_TS, ec);
	uint32_t a = desc_attr(d);
	if (attr_is_seg(a) || attr_type(a) != SYS_LDT || !attr_present(a))
		cpu_exception(cpu, EXC_TS, ec);
	seg_from_desc(&cpu->ldtr, sel, d);
}

/* CS of the new task: code segment, DPL rules against its own RPL. */
static void load_task_cs(struct cpu *cpu, uint16_t sel, uint32_t ext, struct seg *cs)
{
	uint32_t ec = (sel & 0xfffc) | ext;
	uint64_t d, addr;
	if (!(sel & 0xfffc) || !seg_read_desc(cpu, sel, &d, &addr))
		cpu_exception(cpu, EXC_TS, ec);
	uint32_t a = desc_attr(d);
	unsigned rpl = sel & 3;
	if (!attr_is_code(a) || (attr_conforming(a) ? attr_dpl(a) > rpl : attr_dpl(a) != rpl))
		cpu_exception(cpu, EXC_TS, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(cs, sel, d);
}

void task_switch(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why, uint32_t ext,
		 uint32_t errcode)
{
	uint32_t ec = (sel & 0xfffc) | ext;
	uint32_t a = desc_attr(desc);
	unsigned type = attr_type(a);

	if (cpu->msr.efer & EFER_LMA)
		cpu_gp(cpu, ec);
	/* A guest's task switch exits before the new TSS is checked (SVM
	 * task-switch intercept; VMX exits unconditionally). */
	struct icpt_info info = { .index = sel, .errcode = errcode, .value = why };
	VIRT_ICPT(cpu, ICPT_TASK_SWITCH, &info);
	if (attr_is_seg(a) || (type != SYS_TSS16 && type != SYS_TSS16_BUSY && type != SYS_TSS32 &&
			       type != SYS_TSS32_BUSY))
		cpu_gp(cpu, ec);
	bool busy = type & 2;
	/* JMP/CALL/INT need an available TSS, IRET a busy one (§7.3 step 4). */
	if (why == TASK_IRET ? !busy : busy)
		cpu_exception(cpu, why == TASK_IRET ? EXC_TS : EXC_GP, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	bool is32 = type & 8;
	if (desc_limit(desc) < (is32 ? 0x67u : 0x2bu))
		cpu_exception(cpu, EXC_TS, ec);
	bool old32 = attr_type(cpu->tr.attr) & 8;
	if (cpu->tr.limit < (old32 ? 0x5fu : 0x29u))
		cpu_exception(cpu, EXC_TS, (cpu->tr.sel & 0xfffc) | ext);

	uint64_t nbase = desc_base(desc);
	struct task_state t;
	read_tss(cpu, nbase, is32, &t);
	if (why == TASK_CALL || why == TASK_INT)
		lin_probe_write(cpu, (uint32_t)nbase, 2, ACC_WRITE | ACC_SYS);

	/* --- Commit the old task (steps 6-10). --- */
	uint32_t old_flags = (uint32_t)flags_get(cpu);
	if (why == TASK_IRET)
		old_flags &= ~F_NT;
	save_tss(cpu, cpu->tr.base, old32, old_flags);
	if (why == TASK_JMP || why == TASK_IRET)
		seg_set_tss_busy(cpu, cpu->tr.sel, false);
	if (why == TASK_CALL || why == TASK_INT) {
		lin_wr(cpu, (uint32_t)nbase, 2, cpu->tr.sel, ACC_WRITE | ACC_SYS);
		t.eflags |= F_NT;
	}
	if (why != TASK_IRET)
		seg_set_tss_busy(cpu, sel, true);

	/* --- Load the new task (steps 11-12). --- */
	seg_from_desc(&cpu->tr, sel, desc);
	cpu->tr.attr |= 2; /* busy */
	cpu->cr0 |= CR0_TS;
	if (is32 && (cpu->cr0 & CR0_PG)) {
		/* Same path as MOV CR3: PAE PDPTE reload and TLB flush. */
		sys_write_cr3(cpu, t.cr3);
	}
	uint64_t fmask = is32 ? ~0ull : 0xffffull;
	flags_set(cpu, t.eflags | F_FIXED1, fmask);
	for (int i = 0; i < 8; i++) {
		if (is32)
			cpu->gpr[i] = t.gpr[i];
		else
			reg16_set(cpu, i, (uint16_t)t.gpr[i]);
	}
	cpu->rip = t.eip;
	/* Debug-register local enables are cleared on a task switch (§17.2.4). */
	cpu->dr[7] &= ~0x155ull;
	/* Selectors first, all unusable until checked (§7.3 step 13). */
	for (int i = 0; i < (is32 ? S_NSEG : 4); i++)
		seg_make_null(&cpu->seg[i], t.sel[i], 0);
	cpu->cpl = (cpu->rflags & F_VM) ? 3 : (t.sel[S_CS] & 3);
	cpu_update_mode(cpu);
	/* Faults from here on are raised in the new task. */
	cpu->ip_start = cpu->rip;

	load_task_ldt(cpu, t.ldt, ext);
	if (cpu->rflags & F_VM) {
		for (int i = 0; i < S_NSEG; i++)
			seg_set_v86(cpu, i, t.sel[i]);
	} else {
		struct seg s;
		unsigned cpl = t.sel[S_CS] & 3;
		load_task_cs(cpu, t.sel[S_CS], ext, &s);
		seg_commit(cpu, S_CS, &s);
		seg_check_stack(cpu, t.sel[S_SS], cpl, EXC_TS, ext, false, &s);
		cpu->seg[S_SS] = s;
		static const int dregs[4] = { S_DS, S_ES, S_FS, S_GS };
		for (int i = 0; i < 4; i++) {
			if (!is32 && (dregs[i] == S_FS || dregs[i] == S_GS))
				continue;
			seg_check_data(cpu, dregs[i], t.sel[dregs[i]], cpl, EXC_TS, ext, &s);
			cpu->seg[dregs[i]] = s;
		}
	}
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;

	if (cpu->rip > cpu->seg[S_CS].limit)
		cpu_gp(cpu, 0);
	if (why == TASK_INT && errcode != NO_ERRCODE) {
		struct stk k;
		unsigned w = is32 ? 4 : 2;
		stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], false, ext, false);
		stk_reserve(cpu, &k, w);
		stk_push(cpu, &k, w, errcode);
		stk_commit(cpu, &k, false);
	}
	if (t.tbit) {
		dbg_fault_dr6(cpu, 0, DR6_BT);
		cpu_exception(cpu, EXC_DB, NO_ERRCODE);
	}
}
