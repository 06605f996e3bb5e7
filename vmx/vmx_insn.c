/*
 * vmx/vmx_insn.c — the VMX instructions (Intel SDM Vol. 2C/3C ch. 31
 * instruction pages) in VMX root operation and outside VMX operation:
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH,
 * VMRESUME, VMCALL, INVEPT, INVVPID, VMFUNC; the VMX state's life cycle
 * (allocated by the first VMXON, vmx_reset, vmx_free); and the current-VMCS
 * cache (VMPTRLD reads the region, VMCLEAR writes it back).
 *
 * Check order of every instruction (its pseudo-code): #UD (not in VMX
 * operation, real / virtual-8086 / compatibility mode), then the VM exit in
 * non-root operation (cpu/virt.h), then #GP(0) for CPL > 0, then memory
 * operands and their faults, then VMfail / VMsucceed. A fault commits
 * nothing: every operand is read (and every destination written) before the
 * flags or the VMCS change.
 *
 * Outcomes (SDM Vol. 3C §31.2):
 *   VMsucceed       CF PF AF ZF SF OF = 0
 *   VMfailInvalid   CF = 1, the others 0 (no current VMCS to hold an error)
 *   VMfailValid(n)  ZF = 1, the others 0, VM-instruction error field = n
 *   VMfail(n)       VMfailValid(n) if there is a current VMCS, else Invalid
 *
 * VMLAUNCH/VMRESUME make their launch-state checks here and continue in
 * vmx/vmx_entry.c (checks, state load, entry into non-root operation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/msr.h"
#include "cpu/msr_index.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "vmx/vmx_state.h"
#include "vmx/vmx_tlb.h"

/* Basic exit reasons of the VMX instructions (SDM Vol. 3C App. C), passed
 * as icpt_info.index with ICPT_VMX_INSN so the exit code knows which. */
enum {
	EXIT_VMCALL = 18,
	EXIT_VMCLEAR = 19,
	EXIT_VMLAUNCH = 20,
	EXIT_VMPTRLD = 21,
	EXIT_VMPTRST = 22,
	EXIT_VMREAD = 23,
	EXIT_VMRESUME = 24,
	EXIT_VMWRITE = 25,
	EXIT_VMXOFF = 26,
	EXIT_VMXON = 27,
	EXIT_INVEPT = 50,
	EXIT_INVVPID = 53
};

/* IA32_VMX_EPT_VPID_CAP bits the instructions consult (App. A.10). */
#define EPTCAP_INVEPT  (1ull << 20)
#define EPTCAP_INVVPID (1ull << 32)

/* ---- state ---- */

bool vmx_in_operation(const struct cpu *cpu)
{
	return cpu->vmx && vmx_st(cpu)->in_vmx;
}

void vmx_reset(struct cpu *cpu, bool init_only)
{
	struct vmx_state *s = vmx_st(cpu);
	if (!s || init_only)
		return;
	/* RESET in non-root operation leaves it too (nothing is saved). */
	if (cpu->guest_mode && (cpu->virt == &vmx_virt_ops || cpu->virt == &vmx_virt_ops_ept)) {
		cpu->guest_mode = false;
		cpu->icpt = 0;
		cpu->virt_tsc_offset = 0;
		cpu->virt_tsc_ratio = 0;
		cpu->virt_tsc_frac = 0;
		cpu->pending &= ~PEND_VIRT;
		s->preempt_on = false;
		s->injecting = false;
	}
	vmx_preempt_cancel(cpu, s);
	s->in_vmx = false;
	s->vmxon_ptr = 0;
	s->cur_ptr = VMCS_PTR_INVALID;
}

void vmx_free(struct cpu *cpu)
{
	if (cpu->vmx)
		vmx_preempt_cancel(cpu, vmx_st(cpu));
	free(cpu->vmx);
	cpu->vmx = NULL;
}

static struct vmx_state *state_get(struct cpu *cpu)
{
	if (cpu->vmx)
		return vmx_st(cpu);
	struct vmx_state *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "nestbox: vmx: out of memory for the VMX state\n");
		cpu_gp(cpu, 0);
	}
	vmx_caps_compute(cpu, &s->caps);
	s->cur_ptr = VMCS_PTR_INVALID;
	cpu->vmx = s;
	return s;
}

/* ---- outcomes ---- */

static inline void vm_succeed(struct cpu *cpu)
{
	flags_set(cpu, 0, F_ARITH);
}

static inline void vm_fail_invalid(struct cpu *cpu)
{
	flags_set(cpu, F_CF, F_ARITH);
}

static inline void vm_fail_valid(struct cpu *cpu, struct vmx_state *s, enum vmx_insn_error e)
{
	s->cur.vm_insn_error = (uint32_t)e;
	flags_set(cpu, F_ZF, F_ARITH);
}

static inline void vm_fail(struct cpu *cpu, struct vmx_state *s, enum vmx_insn_error e)
{
	if (s->cur_ptr == VMCS_PTR_INVALID)
		vm_fail_invalid(cpu);
	else
		vm_fail_valid(cpu, s, e);
}

/* ---- checks ---- */

/* Real mode, virtual-8086 mode and compatibility mode: #UD for every VMX
 * instruction (CR0.PE = 0, RFLAGS.VM = 1, IA32_EFER.LMA = 1 and CS.L = 0). */
static inline bool bad_mode(const struct cpu *cpu)
{
	return cpu->mode == MODE_REAL || cpu->mode == MODE_V86 || cpu->mode == MODE_COMPAT;
}

static inline unsigned op_size(const struct cpu *cpu)
{
	return cpu->mode == MODE_LONG64 ? 8 : 4;
}

/* In non-root operation the instruction causes a VM exit (unconditionally
 * for the VMX instructions, SDM Vol. 3C §26.1.2). */
_Noreturn static void nonroot_exit(struct cpu *cpu, const struct insn *in, enum icpt_reason r,
				   unsigned exit_reason)
{
	struct icpt_info info = { .insn = in, .index = exit_reason, .errcode = NO_ERRCODE };
	VIRT_ICPT(cpu, r, &info);
	/* The controls always make these exit; getting here is a bug in the
	 * compiled intercept bits, reported to the guest as #UD. */
	fprintf(stderr,
		"nestbox: vmx: instruction (exit reason %u) not intercepted in non-root "
		"operation\n",
		exit_reason);
	cpu_ud(cpu);
}

/* The prologue shared by VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMLAUNCH, VMRESUME, VMXOFF, INVEPT and INVVPID. */
static struct vmx_state *common_checks(struct cpu *cpu, const struct insn *in, unsigned exit_reason)
{
	struct vmx_state *s = vmx_st(cpu);
	if (!s || !s->in_vmx || bad_mode(cpu))
		cpu_ud(cpu);
	if (cpu->guest_mode)
		nonroot_exit(cpu, in, ICPT_VMX_INSN, exit_reason);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	return s;
}

/* A VMXON region or VMCS pointer must be 4-KByte aligned and within the
 * physical-address width (IA32_VMX_BASIC[48] = 0: no 32-bit limit). */
static inline bool bad_paddr(const struct cpu *cpu, uint64_t pa)
{
	return (pa & 0xfff) || (pa >> cpu->model->phys_addr_bits);
}

/* The 64-bit pointer operand of VMXON / VMCLEAR / VMPTRLD. */
static inline uint64_t read_ptr(struct cpu *cpu, const struct insn *in)
{
	return cpu_rd(cpu, in->seg, insn_ea(cpu, in), 8);
}

static inline bool cr_fixed_ok(uint64_t v, const struct vmx_caps *c, uint32_t fixed0_msr)
{
	uint64_t f0 = vmx_caps_get(c, fixed0_msr), f1 = vmx_caps_get(c, fixed0_msr + 1);
	return (v & f0) == f0 && (v & ~f1) == 0;
}

/* ---- current-VMCS cache ---- */

/* Write the cached current VMCS back to its region. The revision and abort
 * words (offsets 0 and 4) stay as memory has them: the processor never
 * changes the revision, and writes the abort indicator only on VMX abort. */
static void vmcs_writeback(struct cpu *cpu, struct vmx_state *s)
{
	const size_t hdr = offsetof(struct vmcs, launch_state);
	phys_write_buf(cpu->mmu, s->cur_ptr + hdr, (const uint8_t *)&s->cur + hdr,
		       sizeof(s->cur) - hdr);
}

static void vmcs_load(struct cpu *cpu, struct vmx_state *s, uint64_t pa)
{
	phys_read_buf(cpu->mmu, pa, &s->cur, sizeof(s->cur));
	s->cur_ptr = pa;
}

/* ---- VMXON / VMXOFF ---- */

/* VMXON m64 (F3 0F C7 /6). */
static void op_vmxon(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = vmx_st(cpu);
	if (bad_mode(cpu) || !(cpu->cr4 & CR4_VMXE))
		cpu_ud(cpu);
	if (s && s->in_vmx) {
		if (cpu->guest_mode)
			nonroot_exit(cpu, in, ICPT_VMX_INSN, EXIT_VMXON);
		if (cpu->cpl != 0)
			cpu_gp(cpu, 0);
		vm_fail(cpu, s, VMXERR_VMXON_IN_ROOT);
		return;
	}
	/* Outside VMX operation: #GP(0) for CPL > 0, A20M, CR0/CR4 bits the
	 * fixed MSRs do not allow, and IA32_FEATURE_CONTROL not locked or
	 * VMX outside SMX not enabled (SDM Vol. 3C §24.7). */
	struct vmx_caps tmp;
	const struct vmx_caps *c = vmx_caps_of(cpu, &tmp);
	uint64_t fc = cpu->msr.feature_control;
	if (cpu->cpl != 0 || !(cpu->a20_mask & (1ull << 20)) ||
	    !cr_fixed_ok(cpu->cr0, c, MSR_IA32_VMX_CR0_FIXED0) ||
	    !cr_fixed_ok(cpu->cr4, c, MSR_IA32_VMX_CR4_FIXED0) || !(fc & FEATCTL_LOCK) ||
	    !(fc & FEATCTL_VMX_OUTSIDE_SMX))
		cpu_gp(cpu, 0);
	uint64_t pa = read_ptr(cpu, in);
	if (bad_paddr(cpu, pa)) {
		vm_fail_invalid(cpu);
		return;
	}
	/* The region's revision identifier must be ours with bit 31 clear. */
	uint32_t rev = (uint32_t)phys_read(cpu->mmu, pa, 4);
	if (rev != VMX_REVISION_ID) {
		vm_fail_invalid(cpu);
		return;
	}
	s = state_get(cpu);
	s->in_vmx = true;
	s->vmxon_ptr = pa;
	s->cur_ptr = VMCS_PTR_INVALID;
	vm_succeed(cpu);
}

/* VMXOFF (0F 01 C4). Leaving VMX operation writes the current VMCS back
 * (software should have VMCLEARed it; this keeps its data either way). */
static void op_vmxoff(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = common_checks(cpu, in, EXIT_VMXOFF);
	/* No dual-monitor treatment of SMIs and SMM: never error 23. */
	if (s->cur_ptr != VMCS_PTR_INVALID)
		vmcs_writeback(cpu, s);
	s->cur_ptr = VMCS_PTR_INVALID;
	s->in_vmx = false;
	vm_succeed(cpu);
}

/* ---- VMCS pointer instructions ---- */

/* VMCLEAR m64 (66 0F C7 /6). */
static void op_vmclear(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = common_checks(cpu, in, EXIT_VMCLEAR);
	uint64_t pa = read_ptr(cpu, in);
	if (bad_paddr(cpu, pa)) {
		vm_fail(cpu, s, VMXERR_VMCLEAR_BAD_ADDR);
		return;
	}
	if (pa == s->vmxon_ptr) {
		vm_fail(cpu, s, VMXERR_VMCLEAR_VMXON_PTR);
		return;
	}
	if (pa == s->cur_ptr) {
		s->cur.launch_state = VMCS_LAUNCH_CLEAR;
		vmcs_writeback(cpu, s);
		s->cur_ptr = VMCS_PTR_INVALID;
	} else {
		/* Not cached: only the launch state in memory changes. */
		phys_write(cpu->mmu, pa + offsetof(struct vmcs, launch_state), 4,
			   VMCS_LAUNCH_CLEAR);
	}
	vm_succeed(cpu);
}

/* VMPTRLD m64 (0F C7 /6). */
static void op_vmptrld(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = common_checks(cpu, in, EXIT_VMPTRLD);
	uint64_t pa = read_ptr(cpu, in);
	if (bad_paddr(cpu, pa)) {
		vm_fail(cpu, s, VMXERR_VMPTRLD_BAD_ADDR);
		return;
	}
	if (pa == s->vmxon_ptr) {
		vm_fail(cpu, s, VMXERR_VMPTRLD_VMXON_PTR);
		return;
	}
	/* Bits 30:0 must be our revision; bit 31 (shadow VMCS) only if VMCS
	 * shadowing is supported. */
	uint32_t rev = (uint32_t)phys_read(cpu->mmu, pa, 4);
	bool shadow_ok = vmx_caps_need(&s->caps, NEED_SHADOW_VMCS);
	if ((rev & 0x7fffffffu) != VMX_REVISION_ID || ((rev >> 31) && !shadow_ok)) {
		vm_fail(cpu, s, VMXERR_VMPTRLD_BAD_REVISION);
		return;
	}
	if (pa != s->cur_ptr) {
		if (s->cur_ptr != VMCS_PTR_INVALID)
			vmcs_writeback(cpu, s);
		vmcs_load(cpu, s, pa);
	}
	vm_succeed(cpu);
}

/* VMPTRST m64 (0F C7 /7). */
static void op_vmptrst(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = common_checks(cpu, in, EXIT_VMPTRST);
	cpu_wr(cpu, in->seg, insn_ea(cpu, in), 8, s->cur_ptr);
	vm_succeed(cpu);
}

/* ---- VMREAD / VMWRITE ---- */

/* The shadow-VMCS indicator (bit 31 of the revision word, §25.2). */
#define VMCS_REV_SHADOW 0x80000000u

/* VMREAD / VMWRITE in non-root operation (SDM Vol. 3C §26.1.3, §25.10):
 * they exit when "VMCS shadowing" is 0, when the encoding has a bit set in
 * 63:15 (31:15 outside 64-bit mode), or when the field's bit in the VMREAD
 * (VMWRITE) bitmap is 1; otherwise they access the shadow VMCS the VMCS
 * link pointer names. bitmap: the bitmap address in the current VMCS. */
static void shadow_or_exit(struct cpu *cpu, const struct insn *in, struct vmx_state *s,
			   uint64_t bitmap, unsigned exit_reason)
{
	const struct vmcs *v = &s->cur;
	uint64_t enc = reg_get(cpu, in->reg, (int)op_size(cpu));
	bool on = vmx_sec_ctls(v) & PROC2_SHADOW_VMCS;
	if (!on || (enc >> 15) || ((phys_read(cpu->mmu, bitmap + (enc >> 3), 1) >> (enc & 7)) & 1))
		nonroot_exit(cpu, in, ICPT_VMX_INSN, exit_reason);
}

/* The prologue of VMREAD / VMWRITE: common_checks, except that non-root
 * operation may go on to the shadow VMCS. Returns the VMCS the
 * instruction accesses: the current one (root), the VMCS link pointer
 * (non-root), or VMCS_PTR_INVALID (VMfailInvalid). */
static uint64_t rw_checks(struct cpu *cpu, const struct insn *in, struct vmx_state **sp, bool write)
{
	struct vmx_state *s = vmx_st(cpu);
	if (!s || !s->in_vmx || bad_mode(cpu))
		cpu_ud(cpu);
	if (cpu->guest_mode)
		shadow_or_exit(cpu, in, s, write ? s->cur.vmwrite_bitmap : s->cur.vmread_bitmap,
			       write ? EXIT_VMWRITE : EXIT_VMREAD);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	*sp = s;
	if (!cpu->guest_mode)
		return s->cur_ptr;
	/* Non-root: the link pointer is ~0 or, as the VM entry checked, a
	 * shadow VMCS other than the current one (§27.3.1.5). */
	return s->cur.vmcs_link_ptr == ~0ull ? VMCS_PTR_INVALID : s->cur.vmcs_link_ptr;
}

/* A field of the shadow VMCS, read from / written to its region in guest
 * memory directly (the region has struct vmcs's format; a shadow VMCS is
 * never the cached current one while the guest runs). */
static uint64_t shadow_read(struct cpu *cpu, uint64_t pa, const struct vmcs_field *f, bool high)
{
	struct vmcs tmp;
	phys_read_buf(cpu->mmu, pa + f->offset, (uint8_t *)&tmp + f->offset, f->size);
	return vmcs_read(&tmp, f, high);
}

static void shadow_write(struct cpu *cpu, uint64_t pa, const struct vmcs_field *f, bool high,
			 uint64_t val)
{
	struct vmcs tmp;
	uint8_t *p = (uint8_t *)&tmp + f->offset;
	phys_read_buf(cpu->mmu, pa + f->offset, p, f->size);
	vmcs_write(&tmp, f, high, val);
	phys_write_buf(cpu->mmu, pa + f->offset, p, f->size);
}

/* VMREAD r/m, r (0F 78): ModRM.reg holds the encoding, r/m receives the
 * field, with 64-bit operands in 64-bit mode and 32-bit ones elsewhere. A
 * narrower field is zero-extended, a wider one truncated (§31.3 VMREAD). */
static void op_vmread(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s;
	uint64_t pa = rw_checks(cpu, in, &s, false);
	if (pa == VMCS_PTR_INVALID) {
		vm_fail_invalid(cpu);
		return;
	}
	unsigned osz = op_size(cpu);
	bool high;
	const struct vmcs_field *f = vmcs_resolve(cpu, reg_get(cpu, in->reg, (int)osz), &high);
	if (!f) {
		vm_fail_valid(cpu, s, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	uint64_t v = cpu->guest_mode ? shadow_read(cpu, pa, f, high) : vmcs_read(&s->cur, f, high);
	if (in->mod == 3)
		reg_set(cpu, in->rm, (int)osz, v);
	else
		cpu_wr(cpu, in->seg, insn_ea(cpu, in), osz, v);
	vm_succeed(cpu);
}

/* VMWRITE r, r/m (0F 79): ModRM.reg holds the encoding, r/m the value. A
 * narrower field takes the low bits, a wider one is zero-extended. */
static void op_vmwrite(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s;
	uint64_t pa = rw_checks(cpu, in, &s, true);
	if (pa == VMCS_PTR_INVALID) {
		vm_fail_invalid(cpu);
		return;
	}
	unsigned osz = op_size(cpu);
	uint64_t v = rm_read(cpu, in, osz);
	bool high;
	const struct vmcs_field *f = vmcs_resolve(cpu, reg_get(cpu, in->reg, (int)osz), &high);
	if (!f) {
		vm_fail_valid(cpu, s, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	/* Read-only data is writable only with IA32_VMX_MISC[29], in root
	 * operation and through a shadow VMCS alike (VMWRITE pseudo-code). */
	if (vmcs_field_readonly(f) && !(vmx_caps_get(&s->caps, MSR_IA32_VMX_MISC) & (1ull << 29))) {
		vm_fail_valid(cpu, s, VMXERR_VMWRITE_READONLY);
		return;
	}
	if (cpu->guest_mode)
		shadow_write(cpu, pa, f, high, v);
	else
		vmcs_write(&s->cur, f, high, v);
	vm_succeed(cpu);
}

/* ---- VMLAUNCH / VMRESUME ---- */

static void vm_entry(struct cpu *cpu, const struct insn *in, bool launch)
{
	struct vmx_state *s = common_checks(cpu, in, launch ? EXIT_VMLAUNCH : EXIT_VMRESUME);
	/* A shadow VMCS cannot be used for VM entry (§25.10: VMfailInvalid). */
	if (s->cur_ptr == VMCS_PTR_INVALID || (s->cur.revision & VMCS_REV_SHADOW)) {
		vm_fail_invalid(cpu);
		return;
	}
	/* Right after MOV SS / POP SS: "events blocked by MOV SS" (error 26). */
	if (cpu->movss_icount && cpu->icount == cpu->movss_icount) {
		vm_fail_valid(cpu, s, VMXERR_ENTRY_MOVSS_BLOCKING);
		return;
	}
	if (launch && s->cur.launch_state != VMCS_LAUNCH_CLEAR) {
		vm_fail_valid(cpu, s, VMXERR_VMLAUNCH_NOT_CLEAR);
		return;
	}
	if (!launch && s->cur.launch_state != VMCS_LAUNCHED) {
		vm_fail_valid(cpu, s, VMXERR_VMRESUME_NOT_LAUNCHED);
		return;
	}
	/* Enters the guest (or takes a VM-entry failure exit) and does not
	 * return, or returns the error of a VMfailValid (vmx/vmx_entry.c). */
	vm_fail_valid(cpu, s, vmx_vmentry(cpu, s, launch));
}

static void op_vmlaunch(struct cpu *cpu, const struct insn *in)
{
	vm_entry(cpu, in, true);
}

static void op_vmresume(struct cpu *cpu, const struct insn *in)
{
	vm_entry(cpu, in, false);
}

/* ---- VMCALL / VMFUNC ---- */

/* VMCALL (0F 01 C1). In VMX root operation it is the call to the SMM
 * monitor of the dual-monitor treatment, which nestbox does not support:
 * VMfail(1). */
static void op_vmcall(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = vmx_st(cpu);
	if (!s || !s->in_vmx)
		cpu_ud(cpu);
	if (cpu->guest_mode)
		nonroot_exit(cpu, in, ICPT_VMCALL, EXIT_VMCALL);
	if (cpu->mode == MODE_V86 || cpu->mode == MODE_COMPAT)
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	vm_fail(cpu, s, VMXERR_VMCALL_IN_ROOT);
}

/* VMFUNC (0F 01 D4), SDM Vol. 3C §26.5.6: #UD outside non-root operation
 * and without "enable VM functions"; any CPL. EAX selects the function: one
 * above 63 or not enabled in the VM-function controls exits (reason 59).
 * Function 0, EPTP switching: ECX indexes the 512-entry EPTP list; an index
 * of 512 or more, or an entry that is not a valid EPT pointer (the checks of
 * VM entry), exits too; otherwise the entry becomes the EPT pointer (and the
 * EPTP index with "EPT-violation #VE") and the guest goes on after VMFUNC. */
static void op_vmfunc(struct cpu *cpu, const struct insn *in)
{
	struct vmx_state *s = vmx_st(cpu);
	if (!s || !cpu->guest_mode)
		cpu_ud(cpu);
	struct vmcs *v = &s->cur;
	if (!(vmx_sec_ctls(v) & PROC2_VMFUNC))
		cpu_ud(cpu);
	uint64_t fn = cpu->gpr[R_AX] & 0xffffffffu, idx = cpu->gpr[R_CX] & 0xffffffffu;
	if (fn > 63 || !((v->vmfunc_controls >> fn) & 1) || fn != 0 || idx >= EPTP_LIST_ENTRIES)
		nonroot_exit(cpu, in, ICPT_VMX_INSN, EXIT_REASON_VMFUNC);
	uint64_t eptp = phys_read(cpu->mmu, v->eptp_list_addr + idx * 8, 8);
	if (!vmx_eptp_valid(cpu, &s->caps, eptp))
		nonroot_exit(cpu, in, ICPT_VMX_INSN, EXIT_REASON_VMFUNC);
	if (v->proc_controls2 & PROC2_EPT_VE)
		v->eptp_index = (uint16_t)idx;
	if (eptp != v->ept_pointer) {
		v->ept_pointer = eptp;
		vmx_eptp_changed(cpu);
	}
}

/* ---- INVEPT / INVVPID ---- */

/* INVEPT r, m128 (66 0F 38 80). Types: 1 single-context, 2 all-context:
 * combined mappings derived from the descriptor's EP4TA, or from any EPTP,
 * are invalidated (SDM Vol. 3C §29.4.3.1; vmx/vmx_tlb.c). */
static void op_invept(struct cpu *cpu, const struct insn *in)
{
	struct vmx_caps tmp;
	const struct vmx_caps *c = vmx_caps_of(cpu, &tmp);
	uint64_t cap = vmx_caps_get(c, MSR_IA32_VMX_EPT_VPID_CAP);
	if (!vmx_caps_need(c, NEED_EPT) || !(cap & EPTCAP_INVEPT))
		cpu_ud(cpu);
	struct vmx_state *s = common_checks(cpu, in, EXIT_INVEPT);
	uint64_t type = reg_get(cpu, in->reg, (int)op_size(cpu));
	if (type > 3 || !((cap >> (24 + type)) & 1)) {
		vm_fail(cpu, s, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	uint64_t desc[2];
	cpu_rdn(cpu, in->seg, insn_ea(cpu, in), desc, 16);
	if (type == 1 && !vmx_eptp_valid(cpu, c, desc[0])) {
		vm_fail(cpu, s, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	vmx_tlb_invept(cpu, type, desc[0]);
	vm_succeed(cpu);
}

/* INVVPID r, m128 (66 0F 38 81). Types: 0 individual address, 1 single
 * context, 2 all contexts, 3 single context retaining globals. Descriptor:
 * VPID in bits 15:0, bits 63:16 reserved, linear address in 127:64.
 * Every type invalidates only mappings tagged with a VPID other than 0
 * (§29.4.3.3): the guest sets of the tagged soft TLB (vmx/vmx_tlb.c). */
static void op_invvpid(struct cpu *cpu, const struct insn *in)
{
	struct vmx_caps tmp;
	const struct vmx_caps *c = vmx_caps_of(cpu, &tmp);
	uint64_t cap = vmx_caps_get(c, MSR_IA32_VMX_EPT_VPID_CAP);
	if (!vmx_caps_need(c, NEED_VPID) || !(cap & EPTCAP_INVVPID))
		cpu_ud(cpu);
	struct vmx_state *s = common_checks(cpu, in, EXIT_INVVPID);
	uint64_t type = reg_get(cpu, in->reg, (int)op_size(cpu));
	if (type > 3 || !((cap >> (40 + type)) & 1)) {
		vm_fail(cpu, s, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	uint64_t desc[2];
	cpu_rdn(cpu, in->seg, insn_ea(cpu, in), desc, 16);
	uint16_t vpid = (uint16_t)desc[0];
	bool bad = (desc[0] >> 16) != 0;
	if (type != 2 && vpid == 0)
		bad = true;
	if (type == 0 && !cpu_canonical(cpu, desc[1]))
		bad = true;
	if (bad) {
		vm_fail(cpu, s, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	vmx_tlb_invvpid(cpu, type, vpid, desc[1]);
	vm_succeed(cpu);
}

/* ---- registration ---- */

#define A   OPT_ANY
#define MEM OPT_MOD_MEM
#define REG OPT_MOD_REG
#define END OPF_ENDS_BLOCK

static const struct optab_entry vmx_ops[] = {
	/* op    mp      reg rm mod vex w flags feat fn name */
	{ 0x1c7, MP_F3, 6, A, MEM, 0, A, END, FEAT_VMX, op_vmxon, "vmxon" },
	{ 0x1c7, MP_66, 6, A, MEM, 0, A, 0, FEAT_VMX, op_vmclear, "vmclear" },
	{ 0x1c7, MP_NONE, 6, A, MEM, 0, A, 0, FEAT_VMX, op_vmptrld, "vmptrld" },
	{ 0x1c7, MP_NONE, 7, A, MEM, 0, A, 0, FEAT_VMX, op_vmptrst, "vmptrst" },
	{ 0x178, MP_NONE, A, A, OPT_MOD_ANY, 0, A, 0, FEAT_VMX, op_vmread, "vmread" },
	{ 0x179, MP_NONE, A, A, OPT_MOD_ANY, 0, A, 0, FEAT_VMX, op_vmwrite, "vmwrite" },
	{ 0x101, A, 0, 1, REG, 0, A, END, FEAT_VMX, op_vmcall, "vmcall" },
	{ 0x101, A, 0, 2, REG, 0, A, END, FEAT_VMX, op_vmlaunch, "vmlaunch" },
	{ 0x101, A, 0, 3, REG, 0, A, END, FEAT_VMX, op_vmresume, "vmresume" },
	{ 0x101, A, 0, 4, REG, 0, A, END, FEAT_VMX, op_vmxoff, "vmxoff" },
	{ 0x101, A, 2, 4, REG, 0, A, END, FEAT_VMX, op_vmfunc, "vmfunc" },
	{ 0x280, MP_66, A, A, MEM, 0, A, 0, FEAT_VMX, op_invept, "invept" },
	{ 0x281, MP_66, A, A, MEM, 0, A, 0, FEAT_VMX, op_invvpid, "invvpid" },
};

void ops_vmx_register(void)
{
	optab_add_many(vmx_ops, (int)(sizeof(vmx_ops) / sizeof(vmx_ops[0])));
}
