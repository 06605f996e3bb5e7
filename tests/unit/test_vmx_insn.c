/*
 * tests/unit/test_vmx_insn.c — the VMX instructions (vmx/vmx_insn.c) run
 * from real instruction bytes on a bare machine in 64-bit mode, with VMX
 * switched on in the model (the -cpu parser still refuses "+vmx"):
 *   - #UD: VMX not advertised, CR4.VMXE = 0, not in VMX operation, VMFUNC;
 *     #GP: IA32_FEATURE_CONTROL, CR0 fixed bits, CPL 3;
 *   - VMXON region checks (VMfailInvalid), VMXON in VMX root (error 15);
 *   - VMCLEAR / VMPTRLD / VMPTRST sequences and their errors (2, 3, 9-11),
 *     the cached VMCS written back by VMCLEAR and reloaded by VMPTRLD;
 *   - VMREAD / VMWRITE round trips (register and memory forms, access type
 *     high, widths) and errors 12 and 13 (not with IA32_VMX_MISC[29]);
 *   - VMLAUNCH / VMRESUME launch-state checks (4, 5) and the interim
 *     error 7; VMCALL (error 1); VMXOFF; CR0/CR4 writes in VMX operation;
 *   - INVEPT / INVVPID types and descriptor checks (error 28).
 * Each case runs one instruction followed by HLT; exceptions go through an
 * IDT whose handlers store the vector at EXC_SLOT and halt.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/msr_index.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_state.h"

#define PML4         0x10000
#define PDPT         0x11000
#define PD           0x12000
#define GDT          0x13000
#define IDT          0x14000
#define TSS          0x15000
#define HANDLERS     0x16000
#define IDT32        0x18000
#define CODE         0x20000
#define PTRS         0x30000 /* memory operands */
#define STACK        0x40000
#define EXC_SLOT     0x500
#define VMXON_REGION 0x100000
#define VMCS_A       0x101000
#define VMCS_B       0x102000

static struct machine *m;
static struct cpu *c;

static void w64(uint64_t a, uint64_t v)
{
	phys_write(m->mmu, a, 8, v);
}

static void setup_machine(bool vmx)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1, .cpu_model = "max" };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	c = m->cpu[0];
	model_set(m->model, FEAT_VMX, vmx);
	/* 8 MiB identity mapped with user-accessible 2M pages. */
	w64(PML4, PDPT | 7);
	w64(PDPT, PD | 7);
	for (int i = 0; i < 4; i++)
		w64(PD + 8 * i, (uint64_t)i << 21 | 0x87);
	/* GDT: null, 64-bit code (0x08), data (0x10), user code (0x1b),
	 * user data (0x23), TSS (0x28, 16 bytes). */
	w64(GDT + 0x08, 0x00af9a000000ffffull);
	w64(GDT + 0x10, 0x00cf92000000ffffull);
	w64(GDT + 0x18, 0x00affa000000ffffull);
	w64(GDT + 0x20, 0x00cff2000000ffffull);
	w64(GDT + 0x28, 0x00008b0000000067ull | (uint64_t)TSS << 16);
	w64(GDT + 0x38, 0x00cf9a000000ffffull); /* 32-bit code (0x38) */
	w64(TSS + 4, STACK);                    /* RSP0 */
	/* IDT: vector v → HANDLERS + 16 v: mov dword [EXC_SLOT], v; hlt. */
	for (int v = 0; v < 32; v++) {
		uint64_t h = HANDLERS + 16 * v;
		w64(IDT + 16 * v,
		    (h & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | ((h >> 16) & 0xffff) << 48);
		w64(IDT + 16 * v + 8, h >> 32);
		/* The same handlers through 32-bit interrupt gates, for the
		 * legacy protected-mode cases. */
		w64(IDT32 + 8 * v,
		    (h & 0xffff) | 0x38ull << 16 | 0x8eull << 40 | ((h >> 16) & 0xffff) << 48);
		const uint8_t stub[] = {
			0xc7, 0x04, 0x25, EXC_SLOT & 0xff, EXC_SLOT >> 8, 0, 0, (uint8_t)v, 0,
			0,    0,    0xf4
		};
		phys_write_buf(m->mmu, h, stub, sizeof(stub));
	}
	c->gdtr.base = GDT;
	c->gdtr.limit = 0x3f;
	c->idtr.base = IDT;
	c->idtr.limit = 32 * 16 - 1;
	c->tr = (struct seg){ TSS, 0x67, 0x8b, 0x28 };
	c->cr3 = PML4;
	c->cr4 = CR4_PAE | (vmx ? CR4_VMXE : 0);
	c->msr.efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
	c->seg[S_CS] = (struct seg){ 0, 0xffffffff, 0xa09b, 0x08 };
	for (int s = 0; s < S_NSEG; s++)
		if (s != S_CS)
			c->seg[s] = (struct seg){ 0, 0xffffffff, 0xc093, 0x10 };
	c->cpl = 0;
	c->rflags = F_FIXED1;
	c->gpr[R_SP] = STACK;
	c->msr.feature_control = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
	/* Regions carry our revision identifier. */
	phys_write(m->mmu, VMXON_REGION, 4, VMX_REVISION_ID);
	phys_write(m->mmu, VMCS_A, 4, VMX_REVISION_ID);
	phys_write(m->mmu, VMCS_B, 4, VMX_REVISION_ID);
}

static void setup(void)
{
	setup_machine(true);
}

static void teardown(void)
{
	vmx_free(c);
	machine_free(m);
}

/* Outcome of one instruction: the exception vector (-1 if none) and the
 * arithmetic flags. */
struct result {
	int vec;
	uint32_t fl;
};

/* Run the instruction bytes, then HLT. Arithmetic flags start as all ones
 * so that VMsucceed/VMfail visibly clear them. */
static struct result exec(const uint8_t *insn, size_t n)
{
	uint8_t code[32];
	ck_assert_uint_lt(n, sizeof(code));
	memcpy(code, insn, n);
	code[n] = 0xf4;
	phys_write_buf(m->mmu, CODE, code, n + 1);
	phys_write(m->mmu, EXC_SLOT, 4, 0xffffffff);
	flags_set(c, F_ARITH, F_ARITH);
	c->rip = CODE;
	c->halted = 0;
	c->gpr[R_SP] = c->cpl ? 0x48000 : STACK;
	ck_assert_int_eq(cpu_run(c, 1000), STOP_HALT);
	struct result r = { (int)(int32_t)phys_read(m->mmu, EXC_SLOT, 4),
			    (uint32_t)flags_get(c) & F_ARITH };
	return r;
}
#define EXEC(...)                                            \
	({                                                   \
		static const uint8_t b_[] = { __VA_ARGS__ }; \
		exec(b_, sizeof(b_));                        \
	})

/* Memory operand [rax] holding v. */
static void ptr_operand(uint64_t v)
{
	w64(PTRS, v);
	c->gpr[R_AX] = PTRS;
}

#define OK_FLAGS     0u
#define FAIL_INVALID F_CF
#define FAIL_VALID   F_ZF

static void expect_ok(struct result r)
{
	ck_assert_int_eq(r.vec, -1);
	ck_assert_uint_eq(r.fl, OK_FLAGS);
}
static void expect_invalid(struct result r)
{
	ck_assert_int_eq(r.vec, -1);
	ck_assert_uint_eq(r.fl, FAIL_INVALID);
}

/* Instruction bytes. */
#define VMXON_RAX        0xf3, 0x0f, 0xc7, 0x30
#define VMCLEAR_RAX      0x66, 0x0f, 0xc7, 0x30
#define VMPTRLD_RAX      0x0f, 0xc7, 0x30
#define VMPTRST_RAX      0x0f, 0xc7, 0x38
#define VMREAD_RBX_RCX   0x0f, 0x78, 0xcb /* vmread rbx, rcx */
#define VMREAD_MRAX_RCX  0x0f, 0x78, 0x08 /* vmread [rax], rcx */
#define VMWRITE_RCX_RBX  0x0f, 0x79, 0xcb /* vmwrite rcx, rbx */
#define VMWRITE_RCX_MRAX 0x0f, 0x79, 0x08 /* vmwrite rcx, [rax] */
#define VMCALL           0x0f, 0x01, 0xc1
#define VMLAUNCH         0x0f, 0x01, 0xc2
#define VMRESUME         0x0f, 0x01, 0xc3
#define VMXOFF           0x0f, 0x01, 0xc4
#define VMFUNC           0x0f, 0x01, 0xd4
#define INVEPT_RCX_MRAX  0x66, 0x0f, 0x38, 0x80, 0x08
#define INVVPID_RCX_MRAX 0x66, 0x0f, 0x38, 0x81, 0x08

static struct result vmxon(uint64_t pa)
{
	ptr_operand(pa);
	return EXEC(VMXON_RAX);
}
static struct result vmclear(uint64_t pa)
{
	ptr_operand(pa);
	return EXEC(VMCLEAR_RAX);
}
static struct result vmptrld(uint64_t pa)
{
	ptr_operand(pa);
	return EXEC(VMPTRLD_RAX);
}
static struct result vmwrite(uint64_t enc, uint64_t v)
{
	c->gpr[R_CX] = enc;
	c->gpr[R_BX] = v;
	return EXEC(VMWRITE_RCX_RBX);
}
static struct result vmread(uint64_t enc, uint64_t *v)
{
	c->gpr[R_CX] = enc;
	c->gpr[R_BX] = 0xdeadbeefdeadbeefull;
	struct result r = EXEC(VMREAD_RBX_RCX);
	*v = c->gpr[R_BX];
	return r;
}
/* The VM-instruction error field of the current VMCS. */
static uint64_t insn_error(void)
{
	uint64_t e;
	expect_ok(vmread(0x4400, &e));
	return e;
}
static void expect_valid(struct result r, unsigned err)
{
	ck_assert_int_eq(r.vec, -1);
	ck_assert_uint_eq(r.fl, FAIL_VALID);
	ck_assert_uint_eq(insn_error(), err);
}

/* VMXON, VMCLEAR A, VMPTRLD A. */
static void enter_with_vmcs(void)
{
	expect_ok(vmxon(VMXON_REGION));
	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
}

/* ---- #UD / #GP ---- */

START_TEST(t_not_advertised)
{
	teardown();
	setup_machine(false);
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMXOFF).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMCALL).vec, EXC_UD);
	/* rdmsr IA32_VMX_BASIC: #GP */
	c->gpr[R_CX] = MSR_IA32_VMX_BASIC;
	ck_assert_int_eq(EXEC(0x0f, 0x32).vec, EXC_GP);
	/* CR4.VMXE is reserved without VMX */
	c->gpr[R_BX] = CR4_PAE | CR4_VMXE;
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xe3).vec, EXC_GP);
}
END_TEST

START_TEST(t_vmxon_ud_gp)
{
	c->cr4 &= ~CR4_VMXE;
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_UD);
	c->cr4 |= CR4_VMXE;
	c->msr.feature_control = 0;
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	c->msr.feature_control = FEATCTL_LOCK;
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	c->msr.feature_control = FEATCTL_VMX_OUTSIDE_SMX;
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	c->msr.feature_control = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
	c->cr0 &= ~CR0_NE; /* IA32_VMX_CR0_FIXED0 has NE */
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	c->cr0 |= CR0_NE;
	c->a20_mask = ~(1ull << 20); /* A20M */
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	c->a20_mask = ~0ull;
	ck_assert(!vmx_in_operation(c));
	expect_ok(vmxon(VMXON_REGION));
	ck_assert(vmx_in_operation(c));
	/* INIT keeps VMX operation (it is blocked in root operation); RESET
	 * leaves it. */
	vmx_reset(c, true);
	ck_assert(vmx_in_operation(c));
	vmx_reset(c, false);
	ck_assert(!vmx_in_operation(c));
}
END_TEST

START_TEST(t_not_in_vmx_ud)
{
	ptr_operand(VMCS_A);
	ck_assert_int_eq(EXEC(VMPTRLD_RAX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMCLEAR_RAX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMPTRST_RAX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMREAD_RBX_RCX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMWRITE_RCX_RBX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMLAUNCH).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMRESUME).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMXOFF).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMCALL).vec, EXC_UD);
	ck_assert_int_eq(EXEC(INVEPT_RCX_MRAX).vec, EXC_UD);
	ck_assert_int_eq(EXEC(VMFUNC).vec, EXC_UD);
	/* VMFUNC is #UD in VMX root operation too. */
	expect_ok(vmxon(VMXON_REGION));
	ck_assert_int_eq(EXEC(VMFUNC).vec, EXC_UD);
	/* Register forms of VMPTRLD/VMXON are other instructions or #UD:
	 * F3 0F C7 F0 (vmxon with mod = 3) */
	ck_assert_int_eq(EXEC(0xf3, 0x0f, 0xc7, 0xf0).vec, EXC_UD);
}
END_TEST

/* Drop to ring 3 directly: user code and stack segments (the #GP handler
 * brings the vCPU back to ring 0, so each case calls it again). */
static void ring3(void)
{
	c->seg[S_CS] = (struct seg){ 0, 0xffffffff, 0xa0fb, 0x1b };
	c->seg[S_SS] = (struct seg){ 0, 0xffffffff, 0xc0f3, 0x23 };
	c->cpl = 3;
	cpu_update_mode(c);
	ptr_operand(VMCS_A);
}

/* #GP(0) raised by the instruction at CODE itself (not by the HLT after
 * it, which is privileged too): the frame on the ring-0 stack has RIP =
 * CODE and error code 0. */
static void expect_gp_at_insn(struct result r)
{
	ck_assert_int_eq(r.vec, EXC_GP);
	ck_assert_uint_eq(phys_read(m->mmu, STACK - 40, 8), CODE);
	ck_assert_uint_eq(phys_read(m->mmu, STACK - 48, 8), 0);
}

START_TEST(t_cpl3_gp)
{
	enter_with_vmcs();
	ring3();
	expect_gp_at_insn(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(c->cpl, 0); /* the handler ran in ring 0 */
	ring3();
	expect_gp_at_insn(EXEC(VMPTRLD_RAX));
	ring3();
	expect_gp_at_insn(EXEC(VMREAD_RBX_RCX));
	ring3();
	expect_gp_at_insn(EXEC(VMXON_RAX));
	ring3();
	expect_gp_at_insn(EXEC(VMCALL));
	ring3();
	expect_gp_at_insn(EXEC(VMXOFF));
	ring3();
	expect_gp_at_insn(EXEC(VMLAUNCH));
	ck_assert(vmx_in_operation(c));
	/* Nothing changed: the VMCS is still current. */
	c->seg[S_CS] = (struct seg){ 0, 0xffffffff, 0xa09b, 0x08 };
	c->seg[S_SS] = (struct seg){ 0, 0xffffffff, 0xc093, 0x10 };
	c->cpl = 0;
	cpu_update_mode(c);
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), VMCS_A);
}
END_TEST

/* ---- VMXON ---- */

START_TEST(t_vmxon_region)
{
	expect_invalid(vmxon(VMXON_REGION + 0x800)); /* not 4K aligned */
	expect_invalid(vmxon(1ull << 40));           /* beyond MAXPHYADDR (40) */
	phys_write(m->mmu, VMXON_REGION, 4, VMX_REVISION_ID + 1);
	expect_invalid(vmxon(VMXON_REGION)); /* wrong revision */
	phys_write(m->mmu, VMXON_REGION, 4, VMX_REVISION_ID | 0x80000000u);
	expect_invalid(vmxon(VMXON_REGION)); /* shadow bit set */
	ck_assert(!vmx_in_operation(c));
	phys_write(m->mmu, VMXON_REGION, 4, VMX_REVISION_ID);
	expect_ok(vmxon(VMXON_REGION));
	/* VMXON in VMX root: VMfailInvalid without a current VMCS... */
	expect_invalid(vmxon(VMXON_REGION));
	/* ...VMfailValid(15) with one. */
	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	expect_valid(vmxon(VMXON_REGION), VMXERR_VMXON_IN_ROOT);
}
END_TEST

/* ---- VMCLEAR / VMPTRLD / VMPTRST ---- */

START_TEST(t_vmcs_pointer_sequence)
{
	expect_ok(vmxon(VMXON_REGION));
	/* No current VMCS: VMPTRST stores all ones, VMREAD fails invalid. */
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), ~0ull);
	uint64_t v;
	expect_invalid(vmread(0x681e, &v));
	expect_invalid(vmwrite(0x681e, 1));

	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), VMCS_A);

	expect_ok(vmwrite(0x681e, 0x123456789abcull)); /* guest RIP */
	expect_ok(vmread(0x681e, &v));
	ck_assert_uint_eq(v, 0x123456789abcull);

	/* Switching to B writes A back; A's data survive the round trip. */
	expect_ok(vmclear(VMCS_B));
	expect_ok(vmptrld(VMCS_B));
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_A + offsetof(struct vmcs, guest_rip), 8),
			  0x123456789abcull);
	expect_ok(vmwrite(0x681e, 0xbbbb));
	expect_ok(vmptrld(VMCS_A));
	expect_ok(vmread(0x681e, &v));
	ck_assert_uint_eq(v, 0x123456789abcull);
	expect_ok(vmptrld(VMCS_B));
	expect_ok(vmread(0x681e, &v));
	ck_assert_uint_eq(v, 0xbbbb);

	/* VMCLEAR of the current VMCS: written back, launch state clear, no
	 * current VMCS any more; the revision word is untouched. */
	expect_ok(vmwrite(0x6c16, 0xcafe)); /* host RIP */
	expect_ok(vmclear(VMCS_B));
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_B + offsetof(struct vmcs, host_rip), 8), 0xcafe);
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_B + offsetof(struct vmcs, launch_state), 4),
			  VMCS_LAUNCH_CLEAR);
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_B, 4), VMX_REVISION_ID);
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), ~0ull);
	expect_invalid(vmread(0x681e, &v));

	/* VMCLEAR of a VMCS that is not current sets its launch state in
	 * memory. */
	phys_write(m->mmu, VMCS_A + offsetof(struct vmcs, launch_state), 4, VMCS_LAUNCHED);
	expect_ok(vmclear(VMCS_A));
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_A + offsetof(struct vmcs, launch_state), 4),
			  VMCS_LAUNCH_CLEAR);
}
END_TEST

START_TEST(t_vmcs_pointer_errors)
{
	expect_ok(vmxon(VMXON_REGION));
	/* Without a current VMCS every VMfail is VMfailInvalid. */
	expect_invalid(vmclear(VMCS_A + 8));
	expect_invalid(vmptrld(VMXON_REGION));
	expect_invalid(vmptrld(1ull << 45));

	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	expect_valid(vmclear(VMCS_B + 0x10), VMXERR_VMCLEAR_BAD_ADDR);
	expect_valid(vmclear(1ull << 40), VMXERR_VMCLEAR_BAD_ADDR);
	expect_valid(vmclear(VMXON_REGION), VMXERR_VMCLEAR_VMXON_PTR);
	expect_valid(vmptrld(VMCS_B + 1), VMXERR_VMPTRLD_BAD_ADDR);
	expect_valid(vmptrld(VMXON_REGION), VMXERR_VMPTRLD_VMXON_PTR);
	phys_write(m->mmu, VMCS_B, 4, 0x1234);
	expect_valid(vmptrld(VMCS_B), VMXERR_VMPTRLD_BAD_REVISION);
	/* Shadow-VMCS indicator without VMCS shadowing support. */
	struct vmx_state *s = (struct vmx_state *)c->vmx;
	uint64_t *p2 = &s->caps.msr[MSR_IA32_VMX_PROCBASED_CTLS2 - MSR_IA32_VMX_FIRST];
	*p2 &= ~((uint64_t)PROC2_SHADOW_VMCS << 32);
	phys_write(m->mmu, VMCS_B, 4, VMX_REVISION_ID | 0x80000000u);
	expect_valid(vmptrld(VMCS_B), VMXERR_VMPTRLD_BAD_REVISION);
	/* A failed VMPTRLD leaves the current VMCS alone. */
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), VMCS_A);
	/* With the capability a shadow VMCS can be made current, but not
	 * launched (VMfailInvalid, SDM Vol. 3C §25.10). */
	*p2 |= (uint64_t)PROC2_SHADOW_VMCS << 32;
	expect_ok(vmptrld(VMCS_B));
	ptr_operand(0);
	expect_ok(EXEC(VMPTRST_RAX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), VMCS_B);
	expect_invalid(EXEC(VMLAUNCH));
}
END_TEST

/* ---- VMREAD / VMWRITE ---- */

START_TEST(t_vmread_vmwrite)
{
	enter_with_vmcs();
	uint64_t v;
	/* 64-bit field: full and high access. */
	expect_ok(vmwrite(0x2010, 0x1122334455667788ull)); /* TSC offset */
	expect_ok(vmread(0x2011, &v));
	ck_assert_uint_eq(v, 0x11223344);
	expect_ok(vmwrite(0x2011, 0xaabbccdd));
	expect_ok(vmread(0x2010, &v));
	ck_assert_uint_eq(v, 0xaabbccdd55667788ull);
	/* 16-bit field: the value is truncated, the read zero-extended. */
	expect_ok(vmwrite(0x0802, 0xffff0010));
	expect_ok(vmread(0x0802, &v));
	ck_assert_uint_eq(v, 0x10);
	/* 32-bit field and access-rights masking. */
	expect_ok(vmwrite(0x4816, 0xffffffffffffffffull));
	expect_ok(vmread(0x4816, &v));
	ck_assert_uint_eq(v, 0x1f0ff);
	/* Memory forms. */
	w64(PTRS, 0xfeedface12345678ull);
	c->gpr[R_AX] = PTRS;
	c->gpr[R_CX] = 0x6800; /* guest CR0 */
	expect_ok(EXEC(VMWRITE_RCX_MRAX));
	w64(PTRS, 0);
	c->gpr[R_AX] = PTRS;
	c->gpr[R_CX] = 0x6800;
	expect_ok(EXEC(VMREAD_MRAX_RCX));
	ck_assert_uint_eq(phys_read(m->mmu, PTRS, 8), 0xfeedface12345678ull);

	/* Unsupported components: error 12, destination untouched. */
	expect_valid(vmread(0x202a, &v), VMXERR_UNSUPPORTED_FIELD); /* #VE info address */
	ck_assert_uint_eq(v, 0xdeadbeefdeadbeefull);
	expect_valid(vmread(0x4003, &v), VMXERR_UNSUPPORTED_FIELD); /* high of 32-bit */
	expect_valid(vmread(0x1ull << 32 | 0x681e, &v), VMXERR_UNSUPPORTED_FIELD);
	expect_valid(vmwrite(0x7777, 1), VMXERR_UNSUPPORTED_FIELD);
	expect_valid(vmwrite(0x2012 | 0x1000, 1), VMXERR_UNSUPPORTED_FIELD); /* bit 12 */

	/* Read-only data is writable: IA32_VMX_MISC[29] is reported... */
	expect_ok(vmwrite(0x4402, 0x30)); /* exit reason */
	expect_ok(vmread(0x4402, &v));
	ck_assert_uint_eq(v, 0x30);
	/* ...and without it VMWRITE fails with error 13. */
	struct vmx_state *s = (struct vmx_state *)c->vmx;
	s->caps.msr[MSR_IA32_VMX_MISC - MSR_IA32_VMX_FIRST] &= ~(1ull << 29);
	expect_valid(vmwrite(0x4402, 0x31), VMXERR_VMWRITE_READONLY);
	expect_ok(vmread(0x4402, &v));
	ck_assert_uint_eq(v, 0x30);
}
END_TEST

START_TEST(t_vmwrite_fault_commits_nothing)
{
	enter_with_vmcs();
	expect_ok(vmwrite(0x681e, 7));
	/* vmwrite rcx, [rax] with a non-canonical address: #GP, no change. */
	c->gpr[R_AX] = 0x8000000000000000ull;
	c->gpr[R_CX] = 0x681e;
	ck_assert_int_eq(EXEC(VMWRITE_RCX_MRAX).vec, EXC_GP);
	uint64_t v;
	expect_ok(vmread(0x681e, &v));
	ck_assert_uint_eq(v, 7);
}
END_TEST

/* ---- VMLAUNCH / VMRESUME / VMCALL / VMXOFF ---- */

START_TEST(t_vmlaunch_vmresume)
{
	expect_ok(vmxon(VMXON_REGION));
	expect_invalid(EXEC(VMLAUNCH));
	expect_invalid(EXEC(VMRESUME));
	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	expect_valid(EXEC(VMRESUME), VMXERR_VMRESUME_NOT_LAUNCHED);
	/* Launch state clear: the checks pass; VM entry is not there yet. */
	expect_valid(EXEC(VMLAUNCH), VMXERR_ENTRY_BAD_CONTROLS);
	/* A launched VMCS (as if a VM entry had happened). */
	expect_ok(vmclear(VMCS_A));
	phys_write(m->mmu, VMCS_A + offsetof(struct vmcs, launch_state), 4, VMCS_LAUNCHED);
	expect_ok(vmptrld(VMCS_A));
	expect_valid(EXEC(VMLAUNCH), VMXERR_VMLAUNCH_NOT_CLEAR);
	expect_valid(EXEC(VMRESUME), VMXERR_ENTRY_BAD_CONTROLS);
}
END_TEST

START_TEST(t_vmcall_root)
{
	expect_ok(vmxon(VMXON_REGION));
	expect_invalid(EXEC(VMCALL));
	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	expect_valid(EXEC(VMCALL), VMXERR_VMCALL_IN_ROOT);
}
END_TEST

START_TEST(t_vmxoff_and_crs)
{
	enter_with_vmcs();
	expect_ok(vmwrite(0x681e, 0x4242));
	/* CR4.VMXE and CR0.NE cannot be cleared in VMX operation. */
	c->gpr[R_BX] = CR4_PAE;
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xe3).vec, EXC_GP); /* mov cr4, rbx */
	ck_assert(c->cr4 & CR4_VMXE);
	c->gpr[R_BX] = c->cr0 & ~CR0_NE;
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xc3).vec, EXC_GP); /* mov cr0, rbx */
	ck_assert(c->cr0 & CR0_NE);
	/* Other CR4 bits still change. */
	c->gpr[R_BX] = CR4_PAE | CR4_VMXE | CR4_PGE;
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xe3).vec, -1);
	ck_assert(c->cr4 & CR4_PGE);

	expect_ok(EXEC(VMXOFF));
	ck_assert(!vmx_in_operation(c));
	/* VMXOFF wrote the current VMCS back. */
	ck_assert_uint_eq(phys_read(m->mmu, VMCS_A + offsetof(struct vmcs, guest_rip), 8), 0x4242);
	ck_assert_int_eq(EXEC(VMXOFF).vec, EXC_UD);
	c->gpr[R_BX] = CR4_PAE;
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xe3).vec, -1);
	ck_assert(!(c->cr4 & CR4_VMXE));
	/* VMXON again: no current VMCS. */
	c->cr4 |= CR4_VMXE;
	expect_ok(vmxon(VMXON_REGION));
	uint64_t v;
	expect_invalid(vmread(0x681e, &v));
}
END_TEST

/* ---- INVEPT / INVVPID ---- */

static struct result inv(bool ept, uint64_t type, uint64_t lo, uint64_t hi)
{
	w64(PTRS, lo);
	w64(PTRS + 8, hi);
	c->gpr[R_AX] = PTRS;
	c->gpr[R_CX] = type;
	return ept ? EXEC(INVEPT_RCX_MRAX) : EXEC(INVVPID_RCX_MRAX);
}

START_TEST(t_invept_invvpid)
{
	expect_ok(vmxon(VMXON_REGION));
	expect_invalid(inv(true, 0, 0, 0)); /* type 0 unsupported, no VMCS */
	expect_ok(vmclear(VMCS_A));
	expect_ok(vmptrld(VMCS_A));
	const uint64_t eptp = 0x200000 | 3 << 3 | 6; /* WB, 4 levels */
	expect_valid(inv(true, 0, eptp, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(true, 3, eptp, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(true, 1ull << 40, eptp, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_ok(inv(true, 1, eptp, 0));
	expect_ok(inv(true, 2, 0, 0)); /* all-context ignores the EPTP */
	expect_valid(inv(true, 1, 0x200000 | 3 << 3 | 1, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(true, 1, 0x200000 | 2 << 3 | 6, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(true, 1, eptp | 0x100, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(true, 1, eptp | 1ull << 40, 0), VMXERR_INVEPT_INVVPID_OPERAND);

	expect_ok(inv(false, 0, 1, 0x1000));
	expect_valid(inv(false, 0, 0, 0x1000), VMXERR_INVEPT_INVVPID_OPERAND); /* VPID 0 */
	expect_valid(inv(false, 0, 1, 0x0000800000000000ull),
		     VMXERR_INVEPT_INVVPID_OPERAND); /* non-canonical */
	expect_ok(inv(false, 1, 5, 0));
	expect_valid(inv(false, 1, 0, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_valid(inv(false, 1, 5 | 1u << 16, 0), VMXERR_INVEPT_INVVPID_OPERAND);
	expect_ok(inv(false, 2, 0, 0));
	expect_ok(inv(false, 3, 9, 0));
	expect_valid(inv(false, 4, 9, 0), VMXERR_INVEPT_INVVPID_OPERAND);
}
END_TEST

/* ---- other modes ---- */

START_TEST(t_compat_mode_ud)
{
	/* IA-32e mode with CS.L = 0: every VMX instruction is #UD. */
	c->seg[S_CS] = (struct seg){ 0, 0xffffffff, 0xc09b, 0x08 };
	cpu_update_mode(c);
	ck_assert_int_eq(c->mode, MODE_COMPAT);
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_UD);
	ck_assert(!vmx_in_operation(c));
}
END_TEST

#define PD32 0x17000

START_TEST(t_protected_mode_32)
{
	/* Legacy protected mode, 32-bit paging with 4M pages (VMXON needs
	 * CR0.PG): VMREAD/VMWRITE use 32-bit operands. */
	for (int i = 0; i < 4; i++)
		phys_write(m->mmu, PD32 + 4 * i, 4, (uint32_t)i << 22 | 0x87);
	c->msr.efer = 0;
	c->cr3 = PD32;
	c->cr4 = CR4_PSE | CR4_VMXE;
	c->seg[S_CS] = (struct seg){ 0, 0xffffffff, 0xc09b, 0x38 };
	c->idtr.base = IDT32;
	c->idtr.limit = 32 * 8 - 1;
	/* Paging off: CR0.PG is fixed to 1 in VMX operation, #GP. */
	c->cr0 &= ~CR0_PG;
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
	ck_assert_int_eq(c->mode, MODE_PROT);
	ck_assert_int_eq(vmxon(VMXON_REGION).vec, EXC_GP);
	ck_assert(!vmx_in_operation(c));
	c->cr0 |= CR0_PG;
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
	enter_with_vmcs();
	uint64_t v;
	expect_ok(vmwrite(0x2011, 0xaaaa));                /* TSC offset, high */
	expect_ok(vmwrite(0x2010, 0xffffffff12345678ull)); /* full: upper cleared */
	expect_ok(vmread(0x2011, &v));
	ck_assert_uint_eq((uint32_t)v, 0);
	expect_ok(vmread(0x2010, &v));
	ck_assert_uint_eq((uint32_t)v, 0x12345678);
	ck_assert_uint_eq(((struct vmx_state *)c->vmx)->cur.tsc_offset, 0x12345678);
	/* Bits 63:32 of RCX are not part of a 32-bit operand. */
	expect_ok(vmwrite(0xffffffff00000000ull | 0x681e, 0x11223344));
	expect_ok(vmread(0x681e, &v));
	ck_assert_uint_eq((uint32_t)v, 0x11223344);
	/* A natural-width field keeps only 32 bits from a 32-bit VMWRITE. */
	ck_assert_uint_eq(((struct vmx_state *)c->vmx)->cur.guest_rip, 0x11223344);
	expect_valid(vmread(0x202a, &v), VMXERR_UNSUPPORTED_FIELD);
	/* Clearing CR0.PG in VMX operation: #GP through the 32-bit IDT. */
	c->gpr[R_BX] = (uint32_t)(c->cr0 & ~CR0_PG);
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xc3).vec, EXC_GP);
	ck_assert(c->cr0 & CR0_PG);
	expect_ok(EXEC(VMXOFF));
	ck_assert_int_eq(EXEC(0x0f, 0x22, 0xc3).vec, -1);
	ck_assert(!(c->cr0 & CR0_PG));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmx_insn");
	TCase *tc = tcase_create("insn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_not_advertised);
	tcase_add_test(tc, t_vmxon_ud_gp);
	tcase_add_test(tc, t_not_in_vmx_ud);
	tcase_add_test(tc, t_cpl3_gp);
	tcase_add_test(tc, t_vmxon_region);
	tcase_add_test(tc, t_vmcs_pointer_sequence);
	tcase_add_test(tc, t_vmcs_pointer_errors);
	tcase_add_test(tc, t_vmread_vmwrite);
	tcase_add_test(tc, t_vmwrite_fault_commits_nothing);
	tcase_add_test(tc, t_vmlaunch_vmresume);
	tcase_add_test(tc, t_vmcall_root);
	tcase_add_test(tc, t_vmxoff_and_crs);
	tcase_add_test(tc, t_invept_invvpid);
	tcase_add_test(tc, t_compat_mode_ud);
	tcase_add_test(tc, t_protected_mode_32);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
