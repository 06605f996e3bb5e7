/*
 * cpu/exec.c — the interpreter's execution loop.
 *
 *   cpu_run ─┬─ setjmp: a fault raised anywhere below lands here and is
 *            │          delivered (with #DF / triple-fault escalation)
 *            └─ run_loop: pending work (interrupts, NMI, mode changes) at
 *                         block boundaries, then exec_block
 *
 * exec_block finds the decoded block for CS:RIP (soft-TLB fetch translation
 * → guest-physical address → block cache) or decodes one, then calls each
 * instruction's handler. It leaves the block early when a handler changes
 * RIP non-sequentially, raises pending work, or halts. Single-stepping (TF)
 * and instructions that straddle a page run through run_one, uncached.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/bcache.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/decode.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/virt.h"
#include "svm/svm.h"
#include "vmx/vmx.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

#include <stdlib.h>

/* Jump cache: a direct-mapped map from the linear address of a block to the
 * block, so the hot loop skips the fetch translation and the hash lookup.
 * An entry is valid only while the vCPU's jc_epoch has not moved: any TLB
 * flush, mode/CS change or block retirement bumps it. */
#define JC_BITS 12
struct jc_entry {
	uint64_t lin;
	uint64_t epoch;
	struct bblock *b;
};

static inline struct jc_entry *jc_slot(struct cpu *c, uint64_t lin)
{
	return &c->jcache[(lin ^ (lin >> JC_BITS)) & ((1u << JC_BITS) - 1)];
}

/* Handler for instructions longer than 15 bytes (SDM Vol. 2 §2.3.11). */
static void op_toolong(struct cpu *cpu, const struct insn *in)
{
	cpu_gp(cpu, 0);
}

static inline int code_bits(const struct cpu *c)
{
	if (c->mode == MODE_LONG64)
		return 64;
	return c->code32 ? 32 : 16;
}

/* Sequential execution advances EIP as a 32-bit register also in 16-bit
 * code: a 32-bit far jump can leave EIP above FFFFh in a 16-bit segment
 * with a large limit, and the next instructions follow it there (the CS
 * limit check catches the rest). Only branches truncate to IP. */
static inline uint64_t ip_mask(const struct cpu *c)
{
	if (c->mode == MODE_LONG64)
		return ~0ull;
	return 0xffffffffull;
}

static inline int fetch_ctx(const struct cpu *c)
{
	return c->cpl == 3 ? TLB_USER : TLB_SUP;
}

/* Exception classes for double-fault escalation (SDM Vol. 3 Table 6-5). */
static int exc_class(int v)
{
	switch (v) {
	case EXC_DE:
	case EXC_TS:
	case EXC_NP:
	case EXC_SS:
	case EXC_GP:
		return 1; /* contributory */
	case EXC_PF:
	case EXC_VE:
		return 2; /* page fault */
	case EXC_DF:
		return 3;
	default:
		return 0; /* benign */
	}
}

/* Leave the current instruction after a VM exit / VM entry replaced the
 * state (cpu/virt.h): exception_entry sees vector -1 and delivers nothing. */
_Noreturn void cpu_unwind(struct cpu *c)
{
	cpu_exception(c, -1, 0);
}

/* Deliver the fault recorded by cpu_exception. Runs after a longjmp, so it
 * may be re-entered when delivery itself faults. */
static void exception_entry(struct cpu *c)
{
	int vec = c->exc_vector;
	uint32_t err = c->exc_errcode;
	int prev = c->delivering;

	if (vec < 0) { /* cpu_unwind: the new state is complete */
		c->delivering = -1;
		c->dbg_hits = 0;
		c->event.valid = false;
		c->event_prev.valid = false;
		return;
	}

	c->rip = c->ip_start;
	c->shadow = 0;
	c->halted = 0;
	c->dbg_hits = 0; /* a faulting instruction's data breakpoints don't trap */
	if (prev >= 0) {
		int a = exc_class(prev), b = exc_class(vec);
		if (a == 3 && b != 0) {
			/* Fault while delivering #DF: shutdown (triple fault), which a
			 * hypervisor may intercept. */
			c->delivering = -1;
			struct icpt_info info = { .index = (uint32_t)vec };
			VIRT_ICPT(c, ICPT_TRIPLE_FAULT, &info);
			c->shutdown = true;
			return;
		}
		if ((a == 1 && b == 1) || (a == 2 && (b == 1 || b == 2))) {
			vec = EXC_DF;
			err = 0;
		}
	}
	c->delivering = vec;
	cpu_deliver_event(c, vec, EV_EXCEPTION, err);
	c->delivering = -1;
}

static inline uint64_t fetch_lin(const struct cpu *c, uint64_t ip)
{
	if (c->mode == MODE_LONG64)
		return ip;
	return (c->seg[S_CS].base + ip) & 0xffffffffull;
}

/* Fetch up to n instruction bytes at ip into buf, stopping (without a fault)
 * at the first byte beyond CS.limit or non-canonical; returns how many. Bytes
 * in pages that do not translate raise #PF through cpu_fetch only when the
 * caller asks for them. */
static unsigned fetch_avail(const struct cpu *c, uint64_t ip, unsigned n)
{
	if (c->mode != MODE_LONG64) {
		uint64_t lim = c->seg[S_CS].limit;
		if (ip > lim)
			return 0;
		if (lim - ip + 1 < n)
			n = (unsigned)(lim - ip + 1);
	}
	return n;
}

/* DEBUGCTL.LBR (bit 0): remember the last taken branch, the instruction
 * at from that went somewhere other than next (MSRs 1DBh/1DCh). A REP
 * string chunk that restarts itself is not a branch. */
static inline void lbr_note(struct cpu *c, uint64_t from, uint64_t next)
{
	if (__builtin_expect(c->msr.debugctl & 1, 0) && c->rip != next && c->rip != from) {
		c->msr.lbr_from = from;
		c->msr.lbr_to = c->rip;
	}
}

/* Decode and run one instruction without caching it. Used for
 * single-stepping, page-straddling instructions, and code in MMIO. */
static void run_one(struct cpu *c)
{
	uint8_t buf[16];
	struct insn in;
	uint64_t ip = c->rip;
	unsigned n = fetch_avail(c, ip, 15);
	c->ip_start = ip;
	if (n == 0)
		cpu_gp(c, 0);
	/* Fetch the bytes of the first page, then more only if needed. */
	uint64_t lin = fetch_lin(c, ip);
	unsigned first = 0x1000 - (unsigned)(lin & 0xfff);
	if (first > n)
		first = n;
	cpu_fetch(c, ip, buf, first);
	int len = decode_bytes(buf, first, code_bits(c), c->model, &in);
	if (len == DEC_MORE && first < n) {
		cpu_fetch(c, ip + first, buf + first, n - first);
		len = decode_bytes(buf, n, code_bits(c), c->model, &in);
	}
	if (len == DEC_MORE)
		cpu_gp(c, 0); /* runs past CS.limit */
	if (len == DEC_TOOLONG) {
		memset(&in, 0, sizeof(in));
		in.fn = op_toolong;
		in.len = 15;
	} else if (len == DEC_UD) {
		cpu_ud(c);
	}
	c->shadow = 0;
	uint64_t next = (ip + in.len) & ip_mask(c);
	c->rip = next;
	in.fn(c, &in);
	c->icount++;
	lbr_note(c, ip, next);
}

/* Decode a block at CS:RIP whose first byte is at host pointer p (gpa phys);
 * returns NULL if the first instruction cannot be decoded from this page
 * alone (the caller then uses run_one). */
static struct bblock *build_block(struct cpu *c, const uint8_t *p, uint64_t phys)
{
	struct insn tmp[BLOCK_MAX_INSNS];
	uint64_t ip = c->rip;
	unsigned page_left = 0x1000 - (unsigned)(phys & 0xfff);
	unsigned avail = fetch_avail(c, ip, page_left);
	int bits = code_bits(c);
	unsigned pos = 0;
	int n = 0;

	while (n < BLOCK_MAX_INSNS && pos < avail) {
		int len = decode_bytes(p + pos, avail - pos, bits, c->model, &tmp[n]);
		if (len == DEC_MORE)
			break;
		if (len == DEC_UD || len == DEC_TOOLONG) {
			if (n > 0)
				break; /* let it start a block of its own */
			memset(&tmp[0], 0, sizeof(tmp[0]));
			tmp[0].fn = len == DEC_UD ? op_ud : op_toolong;
			tmp[0].len = 1;
			tmp[0].flags = OPF_ENDS_BLOCK;
			n = 1;
			break;
		}
		pos += (unsigned)len;
		n++;
		if (tmp[n - 1].flags & OPF_ENDS_BLOCK)
			break;
	}
	if (n == 0)
		return NULL;
	return bcache_insert(c->bcache, phys, (uint32_t)bits, tmp, n);
}

static void exec_block(struct cpu *c)
{
	uint64_t ip = c->rip;
	uint64_t lin = fetch_lin(c, ip);
	struct jc_entry *jc = jc_slot(c, lin);
	struct bblock *b;
	if (jc->lin == lin && jc->epoch == c->jc_epoch) {
		b = jc->b;
		goto run;
	}
	int ctx = fetch_ctx(c);
	struct tlb_entry *e = tlb_find(c->tlb, ctx, TLB_X, lin);
	const uint8_t *host;
	uint64_t phys;

	if (e) {
		host = (const uint8_t *)(e->addend + (uintptr_t)lin);
		phys = e->gpa_page | (lin & 0xfff);
	} else {
		/* Slow path: translate for execution (may fault), fills the TLB. */
		uint8_t dummy;
		c->ip_start = ip;
		if (c->mode != MODE_LONG64 && ip > c->seg[S_CS].limit)
			cpu_gp(c, 0);
		cpu_fetch(c, ip, &dummy, 1);
		e = tlb_find(c->tlb, ctx, TLB_X, lin);
		if (!e) {
			run_one(c); /* code in MMIO or otherwise uncacheable */
			return;
		}
		host = (const uint8_t *)(e->addend + (uintptr_t)lin);
		phys = e->gpa_page | (lin & 0xfff);
	}

	uint32_t key = (uint32_t)code_bits(c);
	b = bcache_lookup(c->bcache, phys, key);
	if (!b) {
		c->ip_start = ip;
		b = build_block(c, host, phys);
		if (!b) {
			run_one(c);
			return;
		}
	}
	/* Building may have flushed (cache full): take the epoch after it. */
	jc->lin = lin;
	jc->epoch = c->jc_epoch;
	jc->b = b;
	if (c->jc_pages_epoch != c->jc_epoch) {
		memset(c->jc_pages, 0, sizeof(c->jc_pages));
		c->jc_pages_epoch = c->jc_epoch;
	}
	c->jc_pages[(lin >> 18) & 63] |= 1ull << ((lin >> 12) & 63);
run:;

	const struct insn *in = b->insn, *end = in + b->ninsn;
	uint64_t mask = ip_mask(c);
	do {
		uint64_t next = (ip + in->len) & mask;
		c->ip_start = ip;
		c->rip = next;
		c->shadow = 0; /* a store is cheaper than a test and branch */
		in->fn(c, in);
		c->icount++;
		if (c->rip != next || (c->pending & ~PEND_IRQ) || c->halted) {
			lbr_note(c, ip, next);
			return;
		}
		/* An interrupt that became deliverable (STI, POPF, EOI...) is taken
		 * after the instruction that enabled it, not at the block's end. */
		if (__builtin_expect((c->pending & PEND_IRQ) && (c->rflags & F_IF) && !c->shadow,
				     0))
			return;
		ip = next;
	} while (++in < end);
}

/* INIT and Start-up IPIs (SDM Vol. 3 §9.4, §11.6.1): INIT resets the vCPU
 * to its INIT state and waits for a SIPI; a SIPI with vector V starts it in
 * real mode at V000:0000. A SIPI to a vCPU not waiting for one is ignored. */
static void service_init_sipi(struct cpu *c)
{
	/* INIT is blocked in VMX root operation (SDM Vol. 3 §24.8): it stays
	 * pending until VMXOFF. (In non-root operation it will exit.) */
	if ((c->pending & PEND_INIT) && !c->guest_mode && (vmx_in_operation(c) || !svm_gif(c)))
		return;
	/* In a guest, INIT is an exit (VMX: unconditional; SVM: intercept). */
	if ((c->pending & PEND_INIT) && c->guest_mode) {
		struct icpt_info info = { .event_kind = EV_EXTINT };
		c->pending &= ~PEND_INIT;
		VIRT_ICPT(c, ICPT_INIT, &info);
		return;
	}
	/* A SIPI to a guest whose controls claim it (VMX: an exit in the
	 * wait-for-SIPI activity state, dropped otherwise, SDM Vol. 3C §26.2)
	 * never restarts the vCPU itself. */
	if ((c->pending & PEND_SIPI) && (c->icpt & ICPT_BIT(ICPT_SIPI))) {
		struct icpt_info info = { .index = c->sipi_vector, .event_kind = EV_EXTINT };
		c->pending &= ~PEND_SIPI;
		c->virt->intercept(c, ICPT_SIPI, &info);
		return;
	}
	if (c->init_sipi) {
		c->init_sipi(c);
		return;
	}
	if (c->pending & PEND_INIT) {
		c->pending &= ~(PEND_INIT | PEND_SIPI);
		cpu_reset(c, true);
		c->halted = 2;
		return;
	}
	c->pending &= ~PEND_SIPI;
	if (c->halted != 2)
		return;
	c->seg[S_CS].sel = (uint16_t)(c->sipi_vector << 8);
	c->seg[S_CS].base = (uint64_t)c->sipi_vector << 12;
	c->rip = 0;
	c->halted = 0;
	cpu_update_mode(c);
}

/* SMI (PEND_SMI, from the LAPIC): nestbox has no system-management mode.
 * SVM's GIF holds it pending (APM Vol. 2 §15.17); a guest's SMI intercept
 * exits (§15.13.3); otherwise it is dropped. */
static void service_smi(struct cpu *c)
{
	if (!svm_gif(c))
		return;
	c->pending &= ~PEND_SMI;
	if (c->guest_mode) {
		struct icpt_info info = { .event_kind = EV_EXTINT };
		c->ip_start = c->rip;
		VIRT_ICPT(c, ICPT_SMI, &info);
	}
}

/* Deliver an external interrupt or NMI if one may be taken now. */
static void service_events(struct cpu *c)
{
	/* SVM's global interrupt flag holds every interrupt and NMI. */
	if (c->shadow || c->halted == 2 || !svm_gif(c))
		return;
	/* With NMI exiting, an NMI exits even while the guest's (virtual) NMIs
	 * are blocked; blocking is set only once the NMI is really delivered. */
	if ((c->pending & PEND_NMI) && (!c->nmi_blocked || (c->icpt & ICPT_BIT(ICPT_NMI)))) {
		c->pending &= ~PEND_NMI;
		c->halted = 0;
		c->ip_start = c->rip;
		cpu_deliver_event(c, EXC_NMI, EV_NMI, NO_ERRCODE);
		c->nmi_blocked = 1;
		return;
	}
	/* Shutdown: external interrupts are not recognized (SDM Vol. 3 §6.15
	 * interrupt 8; in VMX non-root they cause no exit either). */
	if (c->halted == 3)
		return;
	/* With external-interrupt exiting (VMX) or the INTR intercept (SVM), a
	 * pending interrupt exits before the controller is acknowledged, and
	 * RFLAGS.IF of the guest does not block it (SDM Vol. 3 §25.2); the virt
	 * layer acknowledges it when its controls say so. */
	if ((c->pending & PEND_IRQ) && (c->icpt & ICPT_BIT(ICPT_EXTINT)) && c->irq_pending &&
	    c->irq_pending(c)) {
		struct icpt_info info = { .index = 0xffffffffu, .event_kind = EV_EXTINT };
		c->halted = 0;
		c->ip_start = c->rip;
		c->virt->intercept(c, ICPT_EXTINT, &info);
		return;
	}
	if ((c->pending & PEND_IRQ) && (c->rflags & F_IF)) {
		int vec = c->irq_ack ? c->irq_ack(c) : -1;
		if (vec < 0) {
			if (!c->irq_pending || !c->irq_pending(c))
				c->pending &= ~PEND_IRQ;
			return;
		}
		c->halted = 0;
		c->ip_start = c->rip;
		cpu_deliver_event(c, vec, EV_EXTINT, NO_ERRCODE);
	}
}

/* The debug path, one instruction at a time (SDM Vol. 3 ch. 17):
 * instruction breakpoints are faults checked before the instruction unless
 * RF is set; RF is cleared when an instruction completes (IRET/POPF may set
 * it again); data breakpoints and single-step (TF set at the start) are
 * traps delivered after it, with their DR6 bits together. */
static void step_debug(struct cpu *c)
{
	bool tf = c->rflags & F_TF;
	bool rf = c->rflags & F_RF;
	bool armed = dbg_armed(c);

	if (armed != c->dbg_data) {
		c->dbg_data = armed;
		cpu_tlb_flush_all(c);
	}
	/* Intel inhibits instruction breakpoints on the instruction after a
	 * MOV SS / POP SS (the #DB is lost, SDM Vol. 3 §6.8.3: debug
	 * exceptions are inhibited for one instruction); AMD delivers it. */
	bool movss_inhibit =
		(c->shadow & SHADOW_MOVSS) && c->model && c->model->vendor == VENDOR_INTEL;
	if (armed && !rf && !movss_inhibit) {
		int hit = dbg_match_exec(c, fetch_lin(c, c->rip));
		if (hit) {
			dbg_fault_dr6(c, DR6_B_MASK, (unsigned)hit);
			c->ip_start = c->rip;
			cpu_deliver_event(c, EXC_DB, EV_EXCEPTION, NO_ERRCODE);
			return;
		}
	}
	/* dbg_hits may carry traps deferred by a MOV SS / POP SS shadow. */
	uint64_t start = c->rip;
	c->rflags &= ~(uint64_t)F_RF;
	run_one(c);
	unsigned bits = c->dbg_hits;
	if (c->shadow & SHADOW_MOVSS) {
		/* MOV SS/POP SS delay debug traps until after the next
		 * instruction (SDM Vol. 3 §6.8.3): keep the bits. */
		return;
	}
	c->dbg_hits = 0;
	/* SYSCALL/SYSRET: single-step follows TF at their end; INT n, INT3,
	 * INTO and INT1 clear TF on entry to the handler and take no
	 * single-step trap (cpu/debug.h). */
	if (bits & DBG_SS_SUPPRESS)
		tf = false;
	if (bits & DBG_SS_FORCE) {
		tf = true;
		c->pending &= ~PEND_DEBUG;
	}
	bits &= (unsigned)DR6_B_MASK;
	if (tf || bits) {
		/* In guest mode the trap meets the hypervisor before DR6 changes
		 * (VMX: a #DB exit leaves DR6 alone, a pending MTF exit comes
		 * first; cpu/virt.h ICPT_DB_TRAP). */
		if (__builtin_expect((c->icpt & ICPT_BIT(ICPT_DB_TRAP)) != 0, 0)) {
			struct icpt_info info = { .index = bits | (tf ? 1u << 14 : 0) };
			c->halted = 0;
			c->virt->intercept(c, ICPT_DB_TRAP, &info);
		}
		c->dr[6] = (c->dr[6] & ~0xfull) | bits | (tf ? 1u << 14 : 0);
		/* Between iterations of a REP string instruction the pushed RF
		 * is 1 so its instruction breakpoint does not fire again
		 * (SDM Vol. 3 §17.3.1.1). */
		if (c->rip == start)
			c->rflags |= F_RF;
		c->ip_start = c->rip;
		/* A debug exception resumes a HLT (SDM Vol. 2A HLT): stepping
		 * over HLT traps at once, with RIP after it. */
		c->halted = 0;
		cpu_deliver_event(c, EXC_DB, EV_EXCEPTION, NO_ERRCODE);
	}
}

/* A single-step trap owed by a SYSRET that set TF inside a block
 * (DBG_SS_FORCE): delivered before the next instruction, ahead of external
 * interrupts (SDM Vol. 3 §6.9, priority 4 vs 5). */
static void pending_debug_trap(struct cpu *c)
{
	c->pending &= ~PEND_DEBUG;
	if (!(c->dbg_hits & DBG_SS_FORCE))
		return;
	c->dbg_hits = 0;
	dbg_fault_dr6(c, DR6_B_MASK, DR6_BS);
	c->ip_start = c->rip;
	cpu_deliver_event(c, EXC_DB, EV_EXCEPTION, NO_ERRCODE);
}

static enum cpu_stop run_loop(struct cpu *c)
{
	for (;;) {
		if (c->shutdown)
			return STOP_SHUTDOWN;
		if (c->pending) {
			if (c->pending & PEND_EXIT) {
				c->pending &= ~PEND_EXIT;
				return STOP_PENDING;
			}
			if (c->pending & PEND_MODE) {
				c->pending &= ~PEND_MODE;
				c->jc_epoch++;
			}
			if (c->pending & PEND_DEBUG)
				pending_debug_trap(c);
			if (c->pending & (PEND_INIT | PEND_SIPI))
				service_init_sipi(c);
			if (c->pending & PEND_SMI)
				service_smi(c);
			if ((c->pending & PEND_VIRT) && c->guest_mode && c->virt->pending)
				c->virt->pending(c);
			if (c->pending & (PEND_IRQ | PEND_NMI))
				service_events(c);
		}
		if (c->halted)
			return STOP_HALT;
		if (c->icount >= c->icount_limit)
			return STOP_ICOUNT;
		if (__builtin_expect((c->rflags & (F_TF | F_RF)) || dbg_armed(c) || c->dbg_data, 0))
			step_debug(c);
		else
			exec_block(c);
	}
}

enum cpu_stop cpu_run(struct cpu *c, uint64_t n)
{
	jmp_buf jb;
	jmp_buf *saved = c->exc_jmp;
	enum cpu_stop stop;

	if (!c->jcache) {
		c->jcache = calloc(1u << JC_BITS, sizeof(struct jc_entry));
		if (!c->jcache) {
			fprintf(stderr, "nestbox: out of memory for the jump cache\n");
			return STOP_SHUTDOWN;
		}
		c->jc_epoch = 1;
	}
	c->exc_jmp = &jb;
	c->icount_limit = c->icount + n;
	if (c->bcache)
		bcache_collect(c->bcache);
	if (setjmp(jb)) {
		/* A fault was raised: deliver it (may longjmp here again). */
		exception_entry(c);
	}
	stop = run_loop(c);
	c->exc_jmp = saved;
	return stop;
}
