/*
 * svm/svm_insn.c — the SVM instructions (AMD APM Vol. 3 instruction pages,
 * Vol. 2 §15.5-15.17): VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT,
 * INVLPGA (0F 01 D8-DF), RSM (0F AA: no SMM, #UD after its intercept);
 * the life cycle of cpu->svm; segment conversion between struct seg and
 * the VMCB. VMLOAD/VMSAVE of a guest with VIRT_EXT bit 1 go through the
 * NPT; STGI/CLGI of a guest with vGIF set and clear V_GIF.
 *
 * Check order (APM Vol. 2 §15.9: instruction intercepts are checked after
 * the simple exceptions, before operand-related ones): #UD (SVM not
 * enabled: EFER.SVME = 0, or not in protected mode), #GP(0) for CPL > 0,
 * the intercept of a guest, then rAX (#GP(0) when not 4 KiB aligned or
 * beyond MAXPHYADDR). VMMCALL is the exception: any CPL, and a guest's
 * intercepted VMMCALL exits even with the guest's EFER.SVME = 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/insn.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "svm/svm_state.h"

/* ---- state ---- */

struct svm_state *svm_state_get(struct cpu *cpu)
{
	if (!cpu->svm) {
		struct svm_state *st = calloc(1, sizeof(*st));
		if (!st) {
			fprintf(stderr, "nestbox: out of memory for the SVM state\n");
			return NULL;
		}
		st->gif = true;
		cpu->svm = st;
	}
	return svm_st(cpu);
}

bool svm_gif_slow(const struct cpu *cpu)
{
	return svm_st(cpu)->gif;
}

void svm_reset(struct cpu *cpu, bool init_only)
{
	struct svm_state *st = svm_st(cpu);
	(void)init_only;
	if (!st)
		return;
	/* RESET and INIT set GIF and leave any guest (APM Vol. 2 §15.17,
	 * §15.19: INIT while in a guest without the INIT intercept). */
	st->gif = true;
	if (cpu->guest_mode && (cpu->virt == &svm_virt_ops || cpu->virt == &svm_virt_ops_npt)) {
		cpu->guest_mode = false;
		cpu->icpt = 0;
		cpu->virt = NULL;
		cpu->virt_tsc_offset = 0;
		cpu->virt_tsc_ratio = 0;
	}
	st->cache_valid = false;
}

void svm_free(struct cpu *cpu)
{
	free(cpu->svm);
	cpu->svm = NULL;
}

/* ---- segments ---- */

void svm_seg_to_vmcb(const struct seg *s, struct vmcb_seg *v)
{
	v->sel = s->sel;
	/* An unusable (null) segment is stored not present. */
	uint32_t a = s->attr;
	if (a & SEG_ATTR_UNUSABLE)
		a &= ~(uint32_t)SEG_ATTR_P;
	v->attrib = vmcb_attr_pack(a);
	v->limit = s->limit;
	v->base = s->base;
}

void svm_seg_from_vmcb(const struct vmcb_seg *v, struct seg *s, bool is_cs)
{
	s->sel = v->sel;
	s->attr = vmcb_attr_unpack(v->attrib);
	if (!is_cs && !(s->attr & SEG_ATTR_P))
		s->attr |= SEG_ATTR_UNUSABLE;
	s->limit = v->limit;
	s->base = v->base;
}

/* ---- checks ---- */

/* #UD unless SVM is enabled and the CPU is in protected mode. */
static void svm_check_enabled(struct cpu *cpu)
{
	if (!(cpu->msr.efer & EFER_SVME) || cpu->mode == MODE_REAL || cpu->mode == MODE_V86)
		cpu_ud(cpu);
}

/* rAX with the instruction's address size. */
static uint64_t rax_asz(const struct cpu *cpu, const struct insn *in)
{
	return in->asz == 8 ? cpu->gpr[R_AX] : (uint32_t)cpu->gpr[R_AX];
}

/* The common #UD, #GP(CPL), intercept sequence. */
static void svm_check(struct cpu *cpu, const struct insn *in, uint32_t exit)
{
	svm_check_enabled(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	struct icpt_info info = { .insn = in, .index = exit, .lin = rax_asz(cpu, in) };
	VIRT_ICPT(cpu, ICPT_SVM_INSN, &info);
}

/* rAX as a VMCB physical address (address size of the instruction): #GP(0)
 * unless 4 KiB aligned and below MAXPHYADDR. */
static uint64_t svm_rax_pa(struct cpu *cpu, const struct insn *in)
{
	uint64_t pa = rax_asz(cpu, in);
	if ((pa & 0xfff) || (pa >> cpu->model->phys_addr_bits))
		cpu_gp(cpu, 0);
	return pa;
}

/* ---- instructions ---- */

static void op_vmrun(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_VMRUN);
	uint64_t pa = svm_rax_pa(cpu, in);
	if (!svm_state_get(cpu))
		cpu_ud(cpu);
	svm_vmrun(cpu, pa);
}

static void op_vmmcall(struct cpu *cpu, const struct insn *in)
{
	struct icpt_info info = { .insn = in, .index = SVM_EXIT_VMMCALL };
	VIRT_ICPT(cpu, ICPT_SVM_INSN, &info);
	/* Not intercepted (or not in a guest): #UD (APM Vol. 3 VMMCALL). */
	cpu_ud(cpu);
}

/* VMLOAD / VMSAVE move the "hidden" state that VMRUN and #VMEXIT leave
 * alone (APM Vol. 2 §15.5.2): FS, GS, TR, LDTR with their hidden parts,
 * KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP. */
#define HID_SEG_OFF offsetof(struct vmcb, s.fs)
#define HID_SEG_END (offsetof(struct vmcb, s.tr) + sizeof(struct vmcb_seg))
#define HID_MSR_OFF offsetof(struct vmcb, s.star)
#define HID_MSR_END (offsetof(struct vmcb, s.sysenter_eip) + 8)

/* VMLOAD makes the segment bases and KernelGsBase it loads canonical
 * (sign-extended from the highest implemented linear-address bit), as
 * the MSR writes and descriptor loads they stand for would. */
static uint64_t canon(const struct cpu *cpu, uint64_t v)
{
	unsigned sh = model_has(cpu->model, FEAT_LA57) ? 64 - 57 : 64 - 48;
	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* The VMCB address of a VMLOAD/VMSAVE: host-physical, or in a guest with
 * VMSAVE/VMLOAD virtualization guest-physical, translated by the NPT (a
 * failure is an NPF exit). */
static uint64_t vls_pa(struct cpu *cpu, uint64_t pa, bool write)
{
	struct svm_state *st = svm_st(cpu);
	if (!cpu->guest_mode || !st || !st->vls)
		return pa;
	uint64_t hpa;
	svm_npt_xlate(cpu, pa, 0, false, write ? WALK_WRITE : 0, &hpa);
	return hpa;
}

static void op_vmload(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_VMLOAD);
	uint64_t pa = vls_pa(cpu, svm_rax_pa(cpu, in), false);
	struct vmcb v;
	uint8_t *p = (uint8_t *)&v;
	phys_read_buf(cpu->mmu, pa + HID_SEG_OFF, p + HID_SEG_OFF, HID_SEG_END - HID_SEG_OFF);
	phys_read_buf(cpu->mmu, pa + HID_MSR_OFF, p + HID_MSR_OFF, HID_MSR_END - HID_MSR_OFF);
	svm_seg_from_vmcb(&v.s.fs, &cpu->seg[S_FS], false);
	svm_seg_from_vmcb(&v.s.gs, &cpu->seg[S_GS], false);
	svm_seg_from_vmcb(&v.s.tr, &cpu->tr, false);
	svm_seg_from_vmcb(&v.s.ldtr, &cpu->ldtr, false);
	cpu->seg[S_FS].base = canon(cpu, v.s.fs.base);
	cpu->seg[S_GS].base = canon(cpu, v.s.gs.base);
	cpu->tr.base = canon(cpu, v.s.tr.base);
	cpu->ldtr.base = canon(cpu, v.s.ldtr.base);
	cpu->msr.kernel_gs_base = canon(cpu, v.s.kernel_gs_base);
	cpu->msr.star = v.s.star;
	cpu->msr.lstar = v.s.lstar;
	cpu->msr.cstar = v.s.cstar;
	cpu->msr.sfmask = v.s.sfmask;
	cpu->msr.sysenter_cs = v.s.sysenter_cs;
	cpu->msr.sysenter_esp = v.s.sysenter_esp;
	cpu->msr.sysenter_eip = v.s.sysenter_eip;
	cpu->pending |= PEND_MODE;
}

static void op_vmsave(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_VMSAVE);
	uint64_t pa = vls_pa(cpu, svm_rax_pa(cpu, in), true);
	struct vmcb v;
	uint8_t *p = (uint8_t *)&v;
	svm_seg_to_vmcb(&cpu->seg[S_FS], &v.s.fs);
	svm_seg_to_vmcb(&cpu->seg[S_GS], &v.s.gs);
	svm_seg_to_vmcb(&cpu->tr, &v.s.tr);
	svm_seg_to_vmcb(&cpu->ldtr, &v.s.ldtr);
	/* GDTR and IDTR sit between them and are not VMSAVE's: keep memory. */
	phys_read_buf(cpu->mmu, pa + offsetof(struct vmcb, s.gdtr), &v.s.gdtr, sizeof(v.s.gdtr));
	phys_read_buf(cpu->mmu, pa + offsetof(struct vmcb, s.idtr), &v.s.idtr, sizeof(v.s.idtr));
	v.s.kernel_gs_base = cpu->msr.kernel_gs_base;
	v.s.star = cpu->msr.star;
	v.s.lstar = cpu->msr.lstar;
	v.s.cstar = cpu->msr.cstar;
	v.s.sfmask = cpu->msr.sfmask;
	v.s.sysenter_cs = cpu->msr.sysenter_cs;
	v.s.sysenter_esp = cpu->msr.sysenter_esp;
	v.s.sysenter_eip = cpu->msr.sysenter_eip;
	phys_write_buf(cpu->mmu, pa + HID_SEG_OFF, p + HID_SEG_OFF, HID_SEG_END - HID_SEG_OFF);
	phys_write_buf(cpu->mmu, pa + HID_MSR_OFF, p + HID_MSR_OFF, HID_MSR_END - HID_MSR_OFF);
}

static void op_stgi(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_STGI);
	struct svm_state *st = svm_state_get(cpu);
	if (!st)
		cpu_ud(cpu);
	if (svm_vgif(cpu)) {
		/* vGIF: the guest's GIF is V_GIF; a held V_IRQ may go now. */
		st->vmcb.c.int_ctl |= INTCTL_VGIF;
		cpu->pending |= PEND_VIRT | PEND_IRQ;
		return;
	}
	st->gif = true;
	/* Interrupts held while GIF was 0 may be taken now. */
	if (cpu->irq_pending && cpu->irq_pending(cpu))
		cpu->pending |= PEND_IRQ;
}

static void op_clgi(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_CLGI);
	struct svm_state *st = svm_state_get(cpu);
	if (!st)
		cpu_ud(cpu);
	if (svm_vgif(cpu)) {
		st->vmcb.c.int_ctl &= ~INTCTL_VGIF;
		return;
	}
	st->gif = false;
}

static void op_skinit(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	/* Secure init (APM Vol. 2 §15.27) is not offered: CPUID
	 * 8000_0001h.ECX.SKINIT is 0, so the instruction is #UD. */
	cpu_ud(cpu);
}

static void op_invlpga(struct cpu *cpu, const struct insn *in)
{
	svm_check(cpu, in, SVM_EXIT_INVLPGA);
	uint64_t lin = rax_asz(cpu, in);
	/* The page in the TLB set of ASID ECX (0: the host's). */
	uint32_t asid = (uint32_t)cpu->gpr[R_CX];
	cpu_tlb_flush_tagged(cpu, asid != 0, asid, TLB_ANY, lin);
}

/* RSM (0F AA): nestbox has no system-management mode, so RSM is always
 * #UD; a guest's RSM intercept (APM Vol. 2 §15.9, exit 73h) comes first. */
static void op_rsm(struct cpu *cpu, const struct insn *in)
{
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_RSM, &info);
	cpu_ud(cpu);
}

#define A   OPT_ANY
#define REG OPT_MOD_REG
#define END OPF_ENDS_BLOCK

static const struct optab_entry svm_ops[] = {
	/* op    mp reg rm mod vex w flags feat fn name */
	{ 0x101, A, 3, 0, REG, 0, A, END, FEAT_SVM, op_vmrun, "vmrun" },
	{ 0x101, A, 3, 1, REG, 0, A, END, FEAT_SVM, op_vmmcall, "vmmcall" },
	{ 0x101, A, 3, 2, REG, 0, A, END, FEAT_SVM, op_vmload, "vmload" },
	{ 0x101, A, 3, 3, REG, 0, A, 0, FEAT_SVM, op_vmsave, "vmsave" },
	{ 0x101, A, 3, 4, REG, 0, A, END, FEAT_SVM, op_stgi, "stgi" },
	{ 0x101, A, 3, 5, REG, 0, A, END, FEAT_SVM, op_clgi, "clgi" },
	{ 0x101, A, 3, 6, REG, 0, A, END, FEAT_SVM, op_skinit, "skinit" },
	{ 0x101, A, 3, 7, REG, 0, A, END, FEAT_SVM, op_invlpga, "invlpga" },
	{ 0x1aa, A, A, A, OPT_MOD_ANY, 0, A, END, 0, op_rsm, "rsm" },
};

void ops_svm_register(void)
{
	optab_add_many(svm_ops, (int)(sizeof(svm_ops) / sizeof(svm_ops[0])));
}
