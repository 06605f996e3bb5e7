/*
 * cpu/intr.c — delivery of exceptions and interrupts through the IVT (real
 * mode), the V86 interrupt-redirection path (VME), the legacy IDT (interrupt,
 * trap and task gates, with stack switch from the TSS) and the IA-32e IDT
 * (64-bit gates, IST). Intel SDM Vol. 3 ch. 6 (§6.12, §6.14), ch. 20 (§20.3),
 * Vol. 2 "INT n/INTO/INT3/INT1"; AMD APM Vol. 2 §8.9.
 *
 * cpu_deliver_event() is called by the execution loop for faults, traps,
 * NMI and external interrupts, and by INT n / INT3 / INTO / INT1. The return
 * address pushed is always cpu->rip: the loop has reset it to ip_start for
 * faults, and handlers of software interrupts leave the next instruction
 * there. A fault raised while delivering propagates through cpu_exception;
 * the loop turns it into #DF or a triple fault. Nothing is committed before
 * every check and every stack write has succeeded.
 */
#include "cpu/access.h"
#include "cpu/flags.h"
#include "cpu/seg.h"
#include "cpu/virt.h"

/* Fault-class exceptions push RF = 1 (SDM Vol. 3 §18.3.1.1) so the IRET
 * back to the faulting instruction does not retrigger an instruction
 * breakpoint. #DB is left alone (it may be a trap). */
static bool vector_is_fault(int v)
{
	switch (v) {
	case EXC_DE:
	case EXC_BR:
	case EXC_UD:
	case EXC_NM:
	case EXC_TS:
	case EXC_NP:
	case EXC_SS:
	case EXC_GP:
	case EXC_PF:
	case EXC_MF:
	case EXC_AC:
	case EXC_XM:
	case EXC_VE:
	case EXC_CP:
		return true;
	default:
		return false;
	}
}

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

/* Real mode (SDM Vol. 2 INT n, "REAL-ADDRESS-MODE"; Vol. 3 §20.1.4). */
static void deliver_real(struct cpu *cpu, int vector, uint64_t fl)
{
	uint32_t off = (uint32_t)vector * 4;
	if (off + 3 > cpu->idtr.limit)
		cpu_gp(cpu, 0);
	uint64_t base = cpu->idtr.base + off;
	uint16_t ip = (uint16_t)lin_rd(cpu, (uint32_t)base, 2, ACC_READ);
	uint16_t cs = (uint16_t)lin_rd(cpu, (uint32_t)(base + 2), 2, ACC_READ);
	struct stk k;
	stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], false, 0, false);
	stk_reserve(cpu, &k, 6);
	stk_push(cpu, &k, 2, fl);
	stk_push(cpu, &k, 2, cpu->seg[S_CS].sel);
	stk_push(cpu, &k, 2, cpu->rip);
	stk_commit(cpu, &k, false);
	cpu->rflags &= ~(uint64_t)(F_IF | F_TF | F_AC | F_RF);
	seg_set_real(cpu, S_CS, cs);
	cpu->rip = ip;
}

/*
 * V86 software interrupt with CR4.VME = 1 and the redirection bit clear: the
 * 8086 handler from the IVT at linear 0 runs in V86 mode (SDM Vol. 3 §20.3.3,
 * Table 20-2 methods 3 and 5). Returns false if the interrupt must go through
 * the IDT instead.
 */
static bool v86_redirect(struct cpu *cpu, int vector, uint64_t fl)
{
	const struct seg *tr = &cpu->tr;
	/* The redirection bitmap is the 32 bytes just below the I/O bitmap
	 * whose offset is at TSS+0x66 (32-bit TSS only). */
	if (!(attr_type(tr->attr) & 8) || tr->limit < 0x67)
		cpu_gp(cpu, 0);
	uint16_t iomap = (uint16_t)lin_rd(cpu, (uint32_t)(tr->base + 0x66), 2, ACC_READ | ACC_SYS);
	uint32_t byte = (uint32_t)iomap - 32 + ((unsigned)vector >> 3);
	if (byte > tr->limit || iomap < 32)
		cpu_gp(cpu, 0);
	uint8_t bits = (uint8_t)lin_rd(cpu, (uint32_t)(tr->base + byte), 1, ACC_READ | ACC_SYS);
	if (bits & (1u << (vector & 7)))
		return false;

	unsigned iopl = (cpu->rflags & F_IOPL) >> F_IOPL_SHIFT;
	uint16_t ip = (uint16_t)lin_rd(cpu, (uint32_t)vector * 4, 2, ACC_READ);
	uint16_t cs = (uint16_t)lin_rd(cpu, (uint32_t)vector * 4 + 2, 2, ACC_READ);
	uint16_t pushed = (uint16_t)fl;
	if (iopl < 3) {
		/* Method 5: the image shows IOPL = 3 and IF = VIF. */
		pushed = (uint16_t)((pushed & ~F_IF) | F_IOPL | ((fl & F_VIF) ? F_IF : 0));
	}
	struct stk k;
	stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], false, 0, false);
	stk_reserve(cpu, &k, 6);
	stk_push(cpu, &k, 2, pushed);
	stk_push(cpu, &k, 2, cpu->seg[S_CS].sel);
	stk_push(cpu, &k, 2, cpu->rip);
	stk_commit(cpu, &k, false);
	if (iopl < 3)
		cpu->rflags &= ~(uint64_t)(F_VIF | F_TF);
	else
		cpu->rflags &= ~(uint64_t)(F_IF | F_TF);
	seg_set_v86(cpu, S_CS, cs);
	cpu->rip = ip;
	return true;
}

/* Code segment named by an interrupt/trap gate (SDM Vol. 2 INT n,
 * "INTERRUPT-OR-TRAP-GATE"). */
static void gate_target_cs(struct cpu *cpu, uint16_t csel, uint32_t ext, bool long64,
			   struct seg *cs)
{
	uint32_t ec = (csel & 0xfffc) | ext;
	uint64_t d, addr;
	if (!(csel & 0xfffc))
		cpu_gp(cpu, ext);
	if (!seg_read_desc(cpu, csel, &d, &addr))
		cpu_gp(cpu, ec);
	uint32_t a = desc_attr(d);
	if (!attr_is_code(a) || attr_dpl(a) > cpu->cpl)
		cpu_gp(cpu, ec);
	if (long64 && (!(a & SEG_ATTR_L) || (a & SEG_ATTR_DB)))
		cpu_gp(cpu, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(cs, csel, d);
}

/* Common tail: flags, CS:IP, CPL. */
static void finish_gate(struct cpu *cpu, struct seg *cs, unsigned new_cpl, uint64_t ip,
			bool intgate)
{
	cpu->rflags &= ~(uint64_t)(F_TF | F_NT | F_RF | F_VM | (intgate ? F_IF : 0));
	cs->sel = (uint16_t)((cs->sel & ~3u) | new_cpl);
	cpu_set_cs_rip(cpu, cs, ip);
}

/* Legacy protected mode and V86 (SDM Vol. 3 §6.12.1, Figure 6-4). */
static void deliver_prot(struct cpu *cpu, int vector, bool soft, uint32_t ext, uint64_t fl,
			 uint32_t errcode)
{
	uint32_t idt_ec = ((uint32_t)vector << 3) | 2 | ext;
	uint32_t off = (uint32_t)vector * 8;
	if (off + 7 > cpu->idtr.limit)
		cpu_gp(cpu, idt_ec);
	uint64_t g = lin_rd(cpu, (uint32_t)(cpu->idtr.base + off), 8, ACC_READ | ACC_SYS);
	uint32_t ga = desc_attr(g);
	unsigned type = attr_type(ga);
	if (attr_is_seg(ga) ||
	    !(type == SYS_TASKGATE || type == SYS_INTGATE16 || type == SYS_TRAPGATE16 ||
	      type == SYS_INTGATE32 || type == SYS_TRAPGATE32))
		cpu_gp(cpu, idt_ec);
	/* Software interrupts check the gate's DPL; hardware events do not. */
	if (soft && attr_dpl(ga) < cpu->cpl)
		cpu_gp(cpu, ((uint32_t)vector << 3) | 2);
	if (!attr_present(ga))
		cpu_exception(cpu, EXC_NP, idt_ec);

	if (type == SYS_TASKGATE) {
		uint16_t tsel = gate_sel(g);
		uint64_t td;
		if ((tsel & 4) || !seg_read_desc(cpu, tsel, &td, NULL))
			cpu_gp(cpu, (tsel & 0xfffc) | ext);
		task_switch(cpu, tsel, td, TASK_INT, ext, errcode);
		return;
	}

	bool g32 = type & 8;
	bool intgate = !(type & 1);
	unsigned w = g32 ? 4 : 2;
	uint64_t ip = g32 ? gate_off(g) : (uint16_t)gate_off(g);
	struct seg cs;
	gate_target_cs(cpu, gate_sel(g), ext, false, &cs);
	bool vm = cpu->rflags & F_VM;
	bool has_err = errcode != NO_ERRCODE;
	unsigned dpl = attr_dpl(cs.attr);
	struct stk k;
	unsigned new_cpl;
	bool inner = !attr_conforming(cs.attr) && dpl < cpu->cpl;

	if (inner) {
		/* Inner privilege: new stack from the TSS. From V86 mode the
		 * handler must be at ring 0. */
		if (vm && dpl != 0)
			cpu_gp(cpu, (cs.sel & 0xfffc) | ext);
		uint16_t ssel;
		uint64_t sp;
		struct seg ss;
		tss_inner_stack(cpu, dpl, 0, ext, &ssel, &sp);
		seg_check_stack(cpu, ssel, dpl, EXC_TS, ext, false, &ss);
		new_cpl = dpl;
		stk_init(&k, cpu, &ss, sp, false, (ssel & 0xfffc) | ext, true);
		stk_reserve(cpu, &k, w * (5 + has_err + (vm ? 4 : 0)));
		if (ip > cs.limit)
			cpu_gp(cpu, ext);
		if (vm) {
			stk_push(cpu, &k, w, cpu->seg[S_GS].sel);
			stk_push(cpu, &k, w, cpu->seg[S_FS].sel);
			stk_push(cpu, &k, w, cpu->seg[S_DS].sel);
			stk_push(cpu, &k, w, cpu->seg[S_ES].sel);
		}
		stk_push(cpu, &k, w, cpu->seg[S_SS].sel);
		stk_push(cpu, &k, w, cpu->gpr[R_SP]);
	} else {
		/* Same privilege (conforming, or DPL = CPL); not from V86. */
		if (vm)
			cpu_gp(cpu, (cs.sel & 0xfffc) | ext);
		new_cpl = cpu->cpl;
		stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], false, ext, false);
		stk_reserve(cpu, &k, w * (3 + has_err));
		if (ip > cs.limit)
			cpu_gp(cpu, ext);
	}
	stk_push(cpu, &k, w, fl);
	stk_push(cpu, &k, w, cpu->seg[S_CS].sel);
	stk_push(cpu, &k, w, cpu->rip);
	if (has_err)
		stk_push(cpu, &k, w, errcode);

	/* Commit. */
	if (vm) {
		seg_make_null(&cpu->seg[S_GS], 0, 0);
		seg_make_null(&cpu->seg[S_FS], 0, 0);
		seg_make_null(&cpu->seg[S_DS], 0, 0);
		seg_make_null(&cpu->seg[S_ES], 0, 0);
	}
	stk_commit(cpu, &k, inner);
	finish_gate(cpu, &cs, new_cpl, ip, intgate);
}

/* IA-32e mode (SDM Vol. 3 §6.14; AMD APM Vol. 2 §8.9). */
static void deliver_long(struct cpu *cpu, int vector, bool soft, uint32_t ext, uint64_t fl,
			 uint32_t errcode)
{
	uint32_t idt_ec = ((uint32_t)vector << 3) | 2 | ext;
	uint32_t off = (uint32_t)vector * 16;
	if (off + 15 > cpu->idtr.limit)
		cpu_gp(cpu, idt_ec);
	uint64_t g = lin_rd(cpu, cpu->idtr.base + off, 8, ACC_READ | ACC_SYS);
	uint64_t g1 = lin_rd(cpu, cpu->idtr.base + off + 8, 8, ACC_READ | ACC_SYS);
	uint32_t ga = desc_attr(g);
	unsigned type = attr_type(ga);
	if (attr_is_seg(ga) || (type != SYS_INTGATE32 && type != SYS_TRAPGATE32))
		cpu_gp(cpu, idt_ec);
	if (soft && attr_dpl(ga) < cpu->cpl)
		cpu_gp(cpu, ((uint32_t)vector << 3) | 2);
	if (!attr_present(ga))
		cpu_exception(cpu, EXC_NP, idt_ec);

	bool intgate = !(type & 1);
	uint64_t ip = gate_off(g) | (g1 << 32);
	struct seg cs;
	gate_target_cs(cpu, gate_sel(g), ext, true, &cs);
	unsigned dpl = attr_dpl(cs.attr);
	bool inner = !attr_conforming(cs.attr) && dpl < cpu->cpl;
	unsigned new_cpl = inner ? dpl : cpu->cpl;
	unsigned ist = gate_ist(g);
	bool has_err = errcode != NO_ERRCODE;
	uint64_t sp = cpu->gpr[R_SP];
	if (inner || ist) {
		uint16_t dummy;
		tss_inner_stack(cpu, new_cpl, ist, ext, &dummy, &sp);
	} else if (cpu->mode != MODE_LONG64) {
		sp = (cpu->seg[S_SS].attr & SEG_ATTR_DB) ? (uint32_t)sp : (uint16_t)sp;
	}
	sp &= ~0xfull; /* the frame is 16-byte aligned (§6.14.2) */
	if (!canonical(cpu, ip))
		cpu_gp(cpu, ext);

	struct seg ss;
	if (inner)
		seg_make_null(&ss, (uint16_t)new_cpl, new_cpl);
	else
		ss = cpu->seg[S_SS];
	struct stk k;
	stk_init(&k, cpu, &ss, sp, true, ext, inner);
	stk_reserve(cpu, &k, 8 * (5 + has_err));
	stk_push(cpu, &k, 8, cpu->seg[S_SS].sel);
	stk_push(cpu, &k, 8, cpu->gpr[R_SP]);
	stk_push(cpu, &k, 8, fl);
	stk_push(cpu, &k, 8, cpu->seg[S_CS].sel);
	stk_push(cpu, &k, 8, cpu->rip);
	if (has_err)
		stk_push(cpu, &k, 8, errcode);

	stk_commit(cpu, &k, inner);
	finish_gate(cpu, &cs, new_cpl, ip, intgate);
}

static void deliver_event(struct cpu *cpu, int vector, enum event_kind kind, uint32_t errcode);

void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind, uint32_t errcode)
{
	/* Remember what is being delivered (and what it interrupted) for the
	 * IDT-vectoring information of an exit during delivery. */
	cpu->event_prev = cpu->event;
	cpu->event = (struct cpu_event){ vector, kind, errcode, true };
	/* In guest mode every event first meets its intercept (VMX exception
	 * bitmap, NMI / external-interrupt exiting; SVM intercept vectors). */
	if (__builtin_expect(cpu->guest_mode, 0)) {
		struct icpt_info info = { .index = (uint32_t)vector,
					  .errcode = errcode,
					  .event_kind = kind };
		enum icpt_reason r = kind == EV_NMI       ? ICPT_NMI
				     : kind == EV_EXTINT  ? ICPT_EXTINT
				     : kind == EV_SOFTINT ? ICPT_INTN
							  : ICPT_EXCEPTION;
		VIRT_ICPT(cpu, r, &info);
	}
	/* A #PF that is delivered (not intercepted) sets CR2 (SDM Vol. 3 §4.7). */
	if (vector == EXC_PF && kind == EV_EXCEPTION)
		cpu->cr2 = cpu->pf_addr;
	deliver_event(cpu, vector, kind, errcode);
	cpu->event.valid = false;
	cpu->event_prev.valid = false;
}

static void deliver_event(struct cpu *cpu, int vector, enum event_kind kind, uint32_t errcode)
{
	uint64_t fl = flags_get(cpu);
	bool soft = kind == EV_SOFTINT || kind == EV_SOFTEXC;
	/* EXT: the event is not a software interrupt of the program (INT1 counts
	 * as external, SDM Vol. 3 §6.13). */
	uint32_t ext = soft ? 0 : 1;
	if (kind == EV_EXCEPTION && vector_is_fault(vector))
		fl |= F_RF;

	switch (cpu->mode) {
	case MODE_REAL:
		deliver_real(cpu, vector, fl);
		return;
	case MODE_V86:
		if (kind == EV_SOFTINT) {
			if ((cpu->cr4 & CR4_VME) && v86_redirect(cpu, vector, fl))
				return;
			if ((cpu->rflags & F_IOPL) != F_IOPL)
				cpu_gp(cpu, 0);
		}
		deliver_prot(cpu, vector, soft, ext, fl, errcode);
		return;
	case MODE_PROT:
		deliver_prot(cpu, vector, soft, ext, fl, errcode);
		return;
	default:
		deliver_long(cpu, vector, soft, ext, fl, errcode);
		return;
	}
}
