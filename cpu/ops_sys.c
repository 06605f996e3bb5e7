/*
 * cpu/ops_sys.c — system instructions other than control registers and
 * port I/O: RDMSR/WRMSR, RDTSC/RDTSCP, RDPMC, CPUID, HLT, CLI/STI, INVD/
 * WBINVD, RDRAND/RDSEED, RDPID, RD/WR FS/GS BASE, STAC/CLAC; and
 * ops_sys_register(), which also registers cpu/ops_sys_cr.c and
 * cpu/ops_sys_io.c.
 *
 * MONITOR/MWAIT raise #UD: the models do not advertise MONITOR (CPUID.1:
 * ECX.3), which is what a CPU without it does. Semantics: Intel SDM Vol. 2 pages of
 * each instruction; check order #UD, CPL/IOPL #GP, operands.
 */
#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/msr.h"
#include "cpu/msr_index.h"
#include "cpu/ops_sys.h"
#include "cpu/tsc.h"
#include "cpu/virt.h"

static inline unsigned iopl(const struct cpu *cpu)
{
	return (unsigned)(cpu->rflags & F_IOPL) >> F_IOPL_SHIFT;
}

static inline void set_edx_eax(struct cpu *cpu, uint64_t v)
{
	reg32_set(cpu, R_AX, (uint32_t)v);
	reg32_set(cpu, R_DX, (uint32_t)(v >> 32));
}

/* ---- MSRs ---- */

static void op_rdmsr(struct cpu *cpu, const struct insn *in)
{
	uint64_t v;
	sys_need_cpl0(cpu);
	struct icpt_info info = { .insn = in, .index = (uint32_t)cpu->gpr[R_CX] };
	VIRT_ICPT(cpu, ICPT_RDMSR, &info);
	if (!msr_read(cpu, (uint32_t)cpu->gpr[R_CX], &v))
		cpu_gp(cpu, 0);
	set_edx_eax(cpu, v);
}

static void op_wrmsr(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	uint64_t v = (cpu->gpr[R_DX] << 32) | (uint32_t)cpu->gpr[R_AX];
	struct icpt_info info = { .insn = in, .index = (uint32_t)cpu->gpr[R_CX], .value = v };
	VIRT_ICPT(cpu, ICPT_WRMSR, &info);
	if (!msr_write(cpu, (uint32_t)cpu->gpr[R_CX], v))
		cpu_gp(cpu, 0);
}

/* ---- time stamp and performance counters ---- */

static void op_rdtsc(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RDTSC, &info);
	set_edx_eax(cpu, cpu_tsc(cpu));
}

static void op_rdtscp(struct cpu *cpu, const struct insn *in)
{
	/* The VMX intercept raises #UD itself when "enable RDTSCP" is 0 (a
	 * check that precedes the CPL one, SDM Vol. 3C §26.3). */
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RDTSCP, &info);
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
	set_edx_eax(cpu, cpu_tsc(cpu));
	reg32_set(cpu, R_CX, (uint32_t)cpu->msr.tsc_aux);
}

/* No performance counters are advertised (CPUID leaf 0Ah is zero), so no
 * ECX value names a valid counter: #GP(0) after the privilege check. */
static void op_rdpmc(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_PCE) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
	struct icpt_info info = { .insn = in, .index = (uint32_t)cpu->gpr[R_CX] };
	VIRT_ICPT(cpu, ICPT_RDPMC, &info);
	/* AMD: the legacy counters PerfCtr0-3 (C001_0004h-7h, which exist
	 * without any CPUID bit) are ECX 0-3 (APM Vol. 3 RDPMC). Linux's perf
	 * reads them with RDPMC when it stops an event (e.g. at power-off). */
	uint32_t ecx = (uint32_t)cpu->gpr[R_CX];
	if (cpu->model->vendor == VENDOR_AMD && ecx < 4) {
		set_edx_eax(cpu, cpu->msr.amd_perf[4 + ecx]);
		return;
	}
	cpu_gp(cpu, 0);
}

/* MONITOR / MWAIT (SDM Vol. 2B, APM Vol. 3): #UD without CPUID.1:ECX.
 * MONITOR or above CPL 0, then the VMX/SVM intercepts. MONITOR arms the
 * monitor on DS:rAX (checked like a byte read); nestbox tracks no store to
 * the line, and MWAIT returns at once (an allowed spurious wake-up), so
 * both only keep the armed state that SVM's conditional MWAIT intercept
 * needs. ECX: no MONITOR extensions; MWAIT extension bit 0 (interrupts
 * break even when masked). */
static void op_monitor(struct cpu *cpu, const struct insn *in)
{
	if (!model_has(cpu->model, FEAT_MONITOR) || cpu->cpl > 0)
		cpu_ud(cpu);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_MONITOR, &info);
	if ((uint32_t)cpu->gpr[R_CX] != 0)
		cpu_gp(cpu, 0);
	uint64_t off = cpu->gpr[R_AX];
	if (in->asz != 8)
		off &= in->asz == 4 ? 0xffffffffull : 0xffffull;
	cpu_rd(cpu, in->seg, off, 1);
	cpu->monitor_armed = true;
}

static void op_mwait(struct cpu *cpu, const struct insn *in)
{
	if (!model_has(cpu->model, FEAT_MONITOR) || cpu->cpl > 0)
		cpu_ud(cpu);
	struct icpt_info info = { .insn = in, .value = cpu->monitor_armed };
	VIRT_ICPT(cpu, ICPT_MWAIT, &info);
	if ((uint32_t)cpu->gpr[R_CX] & ~1u)
		cpu_gp(cpu, 0);
	cpu->monitor_armed = false;
}

/* ---- CPUID ---- */

static void op_cpuid(struct cpu *cpu, const struct insn *in)
{
	uint32_t r[4];
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_CPUID, &info);
	cpuid_query(cpu, (uint32_t)cpu->gpr[R_AX], (uint32_t)cpu->gpr[R_CX], r);
	reg32_set(cpu, R_AX, r[0]);
	reg32_set(cpu, R_BX, r[1]);
	reg32_set(cpu, R_CX, r[2]);
	reg32_set(cpu, R_DX, r[3]);
}

/* ---- HLT, INVD, WBINVD ---- */

static void op_hlt(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_HLT, &info);
	cpu->halted = 1; /* the loop waits for an interrupt */
}

/* No caches are modelled: INVD and WBINVD only check privilege. */
static void op_invd(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, in->op == 0x108 ? ICPT_INVD : ICPT_WBINVD, &info);
}

/* ---- CLI / STI (SDM Vol. 2A "CLI", Vol. 2B "STI", Vol. 3 §20.3) ---- */

static void op_cli(struct cpu *cpu, const struct insn *in)
{
	switch (cpu->mode) {
	case MODE_REAL:
		break;
	case MODE_V86:
		if (iopl(cpu) == 3)
			break;
		if (cpu->cr4 & CR4_VME) {
			cpu->rflags &= ~(uint64_t)F_VIF;
			return;
		}
		cpu_gp(cpu, 0);
	default:
		if (iopl(cpu) >= cpu->cpl)
			break;
		if (cpu->cpl == 3 && (cpu->cr4 & CR4_PVI)) {
			cpu->rflags &= ~(uint64_t)F_VIF;
			return;
		}
		cpu_gp(cpu, 0);
	}
	cpu->rflags &= ~(uint64_t)F_IF;
}

static void sti_if(struct cpu *cpu)
{
	if (cpu->rflags & F_IF)
		return;
	cpu->rflags |= F_IF;
	/* Interrupts stay blocked until after the next instruction. */
	cpu->shadow = SHADOW_STI;
	if (cpu->irq_pending && cpu->irq_pending(cpu))
		cpu->pending |= PEND_IRQ;
}

static void op_sti(struct cpu *cpu, const struct insn *in)
{
	bool vip = cpu->rflags & F_VIP;
	switch (cpu->mode) {
	case MODE_REAL:
		sti_if(cpu);
		return;
	case MODE_V86:
		if (iopl(cpu) == 3) {
			sti_if(cpu);
			return;
		}
		if ((cpu->cr4 & CR4_VME) && !vip) {
			cpu->rflags |= F_VIF;
			return;
		}
		cpu_gp(cpu, 0);
	default:
		if (iopl(cpu) >= cpu->cpl) {
			sti_if(cpu);
			return;
		}
		if (cpu->cpl == 3 && (cpu->cr4 & CR4_PVI) && !vip) {
			cpu->rflags |= F_VIF;
			return;
		}
		cpu_gp(cpu, 0);
	}
}

/* ---- STAC / CLAC (SMAP) ---- */

static void op_stac(struct cpu *cpu, const struct insn *in)
{
	if (cpu->cpl > 0)
		cpu_ud(cpu);
	cpu->rflags |= F_AC;
}

static void op_clac(struct cpu *cpu, const struct insn *in)
{
	if (cpu->cpl > 0)
		cpu_ud(cpu);
	cpu->rflags &= ~(uint64_t)F_AC;
}

/* ---- RDRAND / RDSEED ---- */

/* Deterministic "random" numbers so runs are reproducible: a SplitMix64
 * finaliser over the vCPU number, the instruction count and the address of
 * the instruction (no hidden state, so save/restore needs nothing). */
static uint64_t det_random(const struct cpu *cpu, uint64_t salt)
{
	uint64_t z = cpu->icount * 0x9e3779b97f4a7c15ull ^ ((uint64_t)cpu->index << 48) ^
		     cpu->ip_start ^ salt;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rand_common(struct cpu *cpu, const struct insn *in, uint64_t salt)
{
	reg_set(cpu, in->rm, in->osz, det_random(cpu, salt));
	/* CF = 1 (valid data), OF SF ZF AF PF = 0. */
	lf_set(cpu, CC_OP(CC_EFLAGS, 1), F_CF, 0, 0);
}

static void op_rdrand(struct cpu *cpu, const struct insn *in)
{
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RDRAND, &info);
	rand_common(cpu, in, 0x5244524e44ull);
}

static void op_rdseed(struct cpu *cpu, const struct insn *in)
{
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RDSEED, &info);
	rand_common(cpu, in, 0x5244534545ull);
}

/* ---- RDPID, RD/WR FS/GS BASE ---- */

static void op_rdpid(struct cpu *cpu, const struct insn *in)
{
	/* VMX: #UD in non-root operation when "enable RDTSCP" is 0 (SDM Vol.
	 * 3C §26.3); it never exits. */
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RDPID, &info);
	if (cpu->mode == MODE_LONG64)
		cpu->gpr[in->rm] = cpu->msr.tsc_aux;
	else
		reg32_set(cpu, in->rm, (uint32_t)cpu->msr.tsc_aux);
}

/* F3 0F AE /0../3 (64-bit mode only, checked by the decoder). */
static void op_fsgsbase(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_FSGSBASE))
		cpu_ud(cpu);
	int seg = (in->reg & 1) ? S_GS : S_FS;
	bool w64 = in->osz == 8;
	if ((in->reg & 7) < 2) { /* RDFSBASE, RDGSBASE */
		uint64_t b = cpu->seg[seg].base;
		if (w64)
			cpu->gpr[in->rm] = b;
		else
			reg32_set(cpu, in->rm, (uint32_t)b);
		return;
	}
	uint64_t v = w64 ? cpu->gpr[in->rm] : (uint32_t)cpu->gpr[in->rm];
	if (!cpu_canonical(cpu, v))
		cpu_gp(cpu, 0);
	cpu->seg[seg].base = v;
}

#define A    OPT_ANY
#define MODA OPT_MOD_ANY
#define REG  OPT_MOD_REG
#define END  OPF_ENDS_BLOCK

static const struct optab_entry sys_ops[] = {
	/* op    mp  reg rm mod vex w flags feat fn name */
	{ 0x132, A, A, A, MODA, 0, A, 0, FEAT_MSR, op_rdmsr, "rdmsr" },
	{ 0x130, A, A, A, MODA, 0, A, END, FEAT_MSR, op_wrmsr, "wrmsr" },
	{ 0x131, A, A, A, MODA, 0, A, 0, FEAT_TSC, op_rdtsc, "rdtsc" },
	{ 0x101, A, 7, 1, REG, 0, A, 0, FEAT_RDTSCP, op_rdtscp, "rdtscp" },
	{ 0x133, A, A, A, MODA, 0, A, 0, 0, op_rdpmc, "rdpmc" },
	{ 0x1a2, A, A, A, MODA, 0, A, 0, 0, op_cpuid, "cpuid" },
	{ 0x0f4, A, A, A, MODA, 0, A, END, 0, op_hlt, "hlt" },
	{ 0x108, A, A, A, MODA, 0, A, 0, 0, op_invd, "invd" },
	{ 0x109, A, A, A, MODA, 0, A, 0, 0, op_invd, "wbinvd" },
	{ 0x0fa, A, A, A, MODA, 0, A, 0, 0, op_cli, "cli" },
	{ 0x0fb, A, A, A, MODA, 0, A, END, 0, op_sti, "sti" },
	{ 0x101, A, 1, 0, REG, 0, A, 0, 0, op_monitor, "monitor" },
	{ 0x101, A, 1, 1, REG, 0, A, 0, 0, op_mwait, "mwait" },
	{ 0x101, A, 1, 3, REG, 0, A, 0, FEAT_SMAP, op_stac, "stac" },
	{ 0x101, A, 1, 2, REG, 0, A, 0, FEAT_SMAP, op_clac, "clac" },
	{ 0x1c7, MP_F3, 7, A, REG, 0, A, 0, FEAT_RDPID, op_rdpid, "rdpid" },
	{ 0x1c7, MP_NONE, 6, A, REG, 0, A, 0, FEAT_RDRAND, op_rdrand, "rdrand" },
	{ 0x1c7, MP_66, 6, A, REG, 0, A, 0, FEAT_RDRAND, op_rdrand, "rdrand" },
	{ 0x1c7, MP_NONE, 7, A, REG, 0, A, 0, FEAT_RDSEED, op_rdseed, "rdseed" },
	{ 0x1c7, MP_66, 7, A, REG, 0, A, 0, FEAT_RDSEED, op_rdseed, "rdseed" },
	{ 0x1ae, MP_F3, 0, A, REG, 0, A, 0, FEAT_FSGSBASE, op_fsgsbase, "rdfsbase" },
	{ 0x1ae, MP_F3, 1, A, REG, 0, A, 0, FEAT_FSGSBASE, op_fsgsbase, "rdgsbase" },
	{ 0x1ae, MP_F3, 2, A, REG, 0, A, 0, FEAT_FSGSBASE, op_fsgsbase, "wrfsbase" },
	{ 0x1ae, MP_F3, 3, A, REG, 0, A, 0, FEAT_FSGSBASE, op_fsgsbase, "wrgsbase" },
};

void ops_sys_register(void)
{
	optab_add_many(sys_ops, (int)(sizeof(sys_ops) / sizeof(sys_ops[0])));
	ops_sys_cr_register();
	ops_sys_io_register();
}
