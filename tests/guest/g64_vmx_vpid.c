/*
 * g64_vmx_vpid — the VPID/EPTP-tagged TLB under VMX (SDM Vol. 3C §29.4.3):
 * L1 runs an L2 that reads linear X (and Y) through its own page tables and
 * changes what X maps to; after each operation that the SDM says
 * invalidates the mapping, L2 (or L1) must see the new page:
 *  - INVVPID individual-address, single-context, all-context and
 *    single-context-retaining-globals for VPID 1;
 *  - VM entries and exits with "enable VPID" = 0 (VPID 0000H, which L1's
 *    own mappings use too);
 *  - INVEPT single- and all-context after an EPT leaf changes;
 *  - L1's mappings and L2's mappings of one linear address never mix;
 *  - two VPIDs, two CR3s, one linear address; INVVPID of one VPID;
 *  - L1's INVLPG in root operation survives a VM entry and exit;
 *  - VMFUNC EPTP switching reads through the new EPT;
 *  - INVLPG and MOV to CR3 in L2 invalidate the combined mappings of the
 *    current VPID for all EP4TAs (§29.4.3.1), not only the current EPTP's.
 * Stale translations are never asserted (the architecture allows them where
 * no invalidation happened); such reads are only reported as notes.
 */
#include "trap.h"
#include "stage2_lib.h"
#include "tlb_fixture.h"
#include "vmx_lib.h"

#define EPT_RWX 7ull
#define EPT_WB  (6ull << 3)

#define VMCS_VMFUNC_CTL 0x2018
#define VMCS_EPTP_LIST  0x2024
#define PROC2_EPT       (1u << 1)
#define PROC2_VPID      (1u << 5)
#define PROC2_VMFUNC    (1u << 13)

/* EPT A: identity, 2-MByte pages except the region of pg. EPT B: the same
 * except that guest-physical pg.a maps pg.d. */
static struct s2 ept, eptb;
static uint64_t eptp_list[512] __attribute__((aligned(4096)));
static uint64_t eptp_a, eptp_b;
static uint8_t gstack[4096] __attribute__((aligned(16)));

/* L2 code; every piece ends in VMCALL. RDI = X, RSI = Y (l2_read). */
__asm__(".text\n"
	".globl l2_read, l2_invlpg, l2_movcr3, l2_vmfunc, l2_vmfunc_invlpg\n"
	"l2_read:\n"
	"  mov (%rdi), %rax\n"
	"  mov (%rsi), %rbx\n"
	"  vmcall\n"
	"l2_invlpg:\n"
	"  invlpg (%rdi)\n"
	"  vmcall\n"
	"l2_movcr3:\n"
	"  mov %cr3, %rax\n"
	"  mov %rax, %cr3\n"
	"  vmcall\n"
	/* X through EPTP-list entry 0, then 1, then 0 again. */
	"l2_vmfunc:\n"
	"  mov (%rdi), %r8\n"
	"  xor %eax, %eax\n"
	"  mov $1, %ecx\n"
	"  vmfunc\n"
	"  mov (%rdi), %r9\n"
	"  xor %eax, %eax\n"
	"  xor %ecx, %ecx\n"
	"  vmfunc\n"
	"  mov (%rdi), %r10\n"
	"  vmcall\n"
	/* X under entry 0; under entry 1 store RDX into the PTE at RSI and
	 * INVLPG X; X again under entry 0. */
	"l2_vmfunc_invlpg:\n"
	"  mov (%rdi), %r8\n"
	"  xor %eax, %eax\n"
	"  mov $1, %ecx\n"
	"  vmfunc\n"
	"  mov %rdx, (%rsi)\n"
	"  invlpg (%rdi)\n"
	"  xor %eax, %eax\n"
	"  xor %ecx, %ecx\n"
	"  vmfunc\n"
	"  mov (%rdi), %r9\n"
	"  vmcall\n");
extern char l2_read[], l2_invlpg[], l2_movcr3[], l2_vmfunc[], l2_vmfunc_invlpg[];

static int invvpid(uint64_t type, uint16_t vpid, uint64_t lin)
{
	struct {
		uint64_t vpid, lin;
	} d = { vpid, lin };
	uint8_t cf, zf;
	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return cf ? 1 : zf ? 2 : 0;
}

static int invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, rsvd;
	} d = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return cf ? 1 : zf ? 2 : 0;
}

static void build_ept(void)
{
	s2_identity(&ept, ent(&pg), EPT_RWX, EPT_RWX | EPT_WB);
	s2_identity(&eptb, ent(&pg), EPT_RWX, EPT_RWX | EPT_WB);
	*s2_leaf(&eptb, ent(pg.a)) = ent(pg.d) | EPT_RWX | EPT_WB;
	eptp_a = ent(ept.pml4) | 6 | 3 << 3;
	eptp_b = ent(eptb.pml4) | 6 | 3 << 3;
	eptp_list[0] = eptp_a;
	eptp_list[1] = eptp_b;
}

/* Every table back to the start and every cached mapping dropped, so each
 * case starts from a known state. */
static void reset(void)
{
	build_gpt(&t1, pg.a, pg.g);
	build_gpt(&t2, pg.c, pg.g);
	th.pt[1] = ent(pg.h) | PTE_PW;
	*s2_leaf(&ept, ent(pg.a)) = ent(pg.a) | EPT_RWX | EPT_WB;
	check(invvpid(2, 0, 0) == 0, "INVVPID all-context succeeds");
	check(invept(2, 0) == 0, "INVEPT all-context succeeds");
	write_cr3(read_cr3());
}

/* The L2 context of the next entry. */
static void ctx(uint32_t proc2, uint16_t vpid, const struct gpt *t, uint64_t eptp)
{
	vmwrite(VMCS_PROC2, vmx_ctl(0x48b, proc2));
	vmwrite(VMCS_VPID, vpid);
	vmwrite(VMCS_GUEST_CR3, ent(t->pml4));
	vmwrite(VMCS_EPTP, eptp);
}

static int launched;

/* Run L2 at rip to its VMCALL; false (with a failed check) otherwise. */
static int enter(const char *rip, const char *what)
{
	vmwrite(VMCS_GUEST_RIP, ent(rip));
	int r = vm_enter(!launched, 0);
	if (r == 0)
		launched = 1;
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	if (r != 0 || reason != 18) {
		check(0, "%s: L2 runs to VMCALL (r=%d, error %lu, reason %u, qual %lx)", what, r,
		      (unsigned long)vmread(VMCS_VM_INSN_ERROR), reason,
		      (unsigned long)vmread(VMCS_EXIT_QUAL));
		return 0;
	}
	return 1;
}

/* L2 reads X and Y; returns [X], [Y] in *y. */
static uint64_t l2_x(uint64_t *y, const char *what)
{
	vm_guest_regs.rdi = XLIN;
	vm_guest_regs.rsi = YLIN;
	vm_guest_regs.rax = vm_guest_regs.rbx = 0xdead;
	if (!enter(l2_read, what))
		return ~0ull;
	if (y)
		*y = vm_guest_regs.rbx;
	return vm_guest_regs.rax;
}

#define CHECK_X(want, what)                                                                \
	do {                                                                               \
		uint64_t x_ = l2_x(0, what);                                               \
		check(x_ == (want), "%s: L2 reads %lx, want %lx", what, (unsigned long)x_, \
		      (unsigned long)(want));                                              \
	} while (0)

/* A read where a stale value is allowed: only reported. */
static void note_x(uint64_t fresh, const char *what)
{
	uint64_t x = l2_x(0, what);
	guest_printf("note: %s: L2 reads %s (%lx)\n", what,
		     x == fresh ? "the new mapping" : "a stale mapping (allowed)",
		     (unsigned long)x);
}

/* Case 6: L1 changes its own PTE of Y (used before VMLAUNCH) and INVLPGs
 * it in root operation; a VM entry and exit in between keep the
 * invalidation (VPID 1: the transitions themselves invalidate nothing). */
static void case_l1_invlpg(void)
{
	reset();
	ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
	check(l1_read(YLIN) == VH, "L1 reads its own page at Y");
	th.pt[1] = ent(pg.c) | PTE_PW;
	invlpg(YLIN);
	uint64_t y = 0;
	l2_x(&y, "L1 INVLPG, then VMLAUNCH");
	check(y == VG, "L2 reads its own page at Y (%lx)", (unsigned long)y);
	check(l1_read(YLIN) == VC, "after the exit L1 reads Y's new page (%lx)",
	      (unsigned long)l1_read(YLIN));

	th.pt[1] = ent(pg.b) | PTE_PW;
	write_cr3(read_cr3());
	l2_x(&y, "L1 MOV CR3, then VMRESUME");
	check(l1_read(YLIN) == VB, "after MOV CR3 and an entry/exit L1 reads Y's new page (%lx)",
	      (unsigned long)l1_read(YLIN));
}

/* Case 1: INVVPID of each type for VPID 1 (EPT on: combined mappings). */
static void case_invvpid(void)
{
	reset();
	ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
	CHECK_X(VA, "VPID 1 first read");
	t1.pt[0] = ent(pg.c) | PTE_PW;
	note_x(VC, "PTE changed, no INVVPID");

	t1.pt[0] = ent(pg.b) | PTE_PW;
	check(invvpid(1, 1, 0) == 0, "INVVPID single-context succeeds");
	CHECK_X(VB, "after INVVPID single-context");

	t1.pt[0] = ent(pg.c) | PTE_PW;
	check(invvpid(0, 1, XLIN) == 0, "INVVPID individual-address succeeds");
	CHECK_X(VC, "after INVVPID individual-address");

	t1.pt[0] = ent(pg.a) | PTE_PW;
	check(invvpid(2, 0, 0) == 0, "INVVPID all-context succeeds");
	CHECK_X(VA, "after INVVPID all-context");

	t1.pt[0] = ent(pg.b) | PTE_PW; /* not global: type 3 invalidates it */
	check(invvpid(3, 1, 0) == 0, "INVVPID single-context-retaining-globals succeeds");
	CHECK_X(VB, "after INVVPID single-context-retaining-globals");
}

/* Case 2: without VPID, VM entries and exits invalidate the mappings of
 * VPID 0000H (§29.4.3.1): L2's and L1's own. */
static void case_no_vpid(void)
{
	static const uint32_t p2[2] = { PROC2_EPT, 0 };
	for (int i = 0; i < 2; i++) {
		reset();
		ctx(p2[i], 0, &t1, eptp_a);
		CHECK_X(VA, i ? "no VPID, no EPT: first read" : "no VPID: first read");
		t1.pt[0] = ent(pg.b) | PTE_PW;
		CHECK_X(VB, i ? "no VPID, no EPT: after VMRESUME" : "no VPID: after VMRESUME");
		t1.pt[0] = ent(pg.c) | PTE_PW;
		CHECK_X(VC, i ? "no VPID, no EPT: again" : "no VPID: again");

		check(l1_read(YLIN) == VH, "no VPID: L1 reads its own page at Y");
		th.pt[1] = ent(pg.d) | PTE_PW; /* no INVLPG */
		uint64_t y = 0;
		l2_x(&y, "no VPID: L1 changed its PTE");
		check(y == VG, "no VPID: L2 reads its own page at Y (%lx)", (unsigned long)y);
		check(l1_read(YLIN) == VD,
		      "no VPID: after entry and exit L1 reads Y's new page (%lx)",
		      (unsigned long)l1_read(YLIN));
	}
}

/* Case 3: an EPT leaf changes, INVEPT single-context / all-context. */
static void case_invept(void)
{
	reset();
	ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
	CHECK_X(VA, "EPT: first read");
	*s2_leaf(&ept, ent(pg.a)) = ent(pg.d) | EPT_RWX | EPT_WB;
	check(invept(1, eptp_a) == 0, "INVEPT single-context succeeds");
	CHECK_X(VD, "after EPT leaf change and INVEPT single-context");
	*s2_leaf(&ept, ent(pg.a)) = ent(pg.a) | EPT_RWX | EPT_WB;
	check(invept(2, 0) == 0, "INVEPT all-context succeeds");
	CHECK_X(VA, "after EPT leaf change and INVEPT all-context");
	*s2_leaf(&ept, ent(pg.a)) = ent(pg.b) | EPT_RWX | EPT_WB;
	check(invept(1, eptp_a) == 0, "INVEPT single-context succeeds");
	CHECK_X(VB, "after a second EPT leaf change and INVEPT single-context");
}

/* Case 4: L1's and L2's mappings of Y never mix (with and without EPT). */
static void case_host_guest(void)
{
	static const uint32_t p2[2] = { PROC2_EPT | PROC2_VPID, PROC2_VPID };
	for (int i = 0; i < 2; i++) {
		reset();
		ctx(p2[i], 1, &t1, eptp_a);
		for (int k = 0; k < 3; k++) {
			check(l1_read(YLIN) == VH, "L1 reads its page at Y (%s, round %d)",
			      i ? "no EPT" : "EPT", k);
			uint64_t y = 0;
			l2_x(&y, "host/guest");
			check(y == VG, "L2 reads its own page at Y, not L1's (%s, round %d): %lx",
			      i ? "no EPT" : "EPT", k, (unsigned long)y);
		}
		check(l1_read(YLIN) == VH, "L1 still reads its own page at Y");
	}
}

/* Case 5: VPIDs 1 and 2 with different CR3s map X to different pages;
 * then both with one CR3, and INVVPID of one VPID at a time. */
static void case_two_vpids(void)
{
	reset();
	for (int k = 0; k < 3; k++) {
		ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
		CHECK_X(VA, "VPID 1 with CR3 t1");
		ctx(PROC2_EPT | PROC2_VPID, 2, &t2, eptp_a);
		CHECK_X(VC, "VPID 2 with CR3 t2");
	}
	ctx(PROC2_EPT | PROC2_VPID, 2, &t1, eptp_a);
	CHECK_X(VA, "VPID 2 with CR3 t1");
	ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
	CHECK_X(VA, "VPID 1 with CR3 t1");
	t1.pt[0] = ent(pg.b) | PTE_PW;
	check(invvpid(1, 2, 0) == 0, "INVVPID single-context VPID 2");
	ctx(PROC2_EPT | PROC2_VPID, 2, &t1, eptp_a);
	CHECK_X(VB, "VPID 2 after its INVVPID");
	check(invvpid(0, 1, XLIN) == 0, "INVVPID individual-address VPID 1");
	ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
	CHECK_X(VB, "VPID 1 after its INVVPID");
}

/* Case 7: VMFUNC 0 switches the EPTP; X reads through the new EPT. */
static void case_vmfunc(void)
{
	reset();
	ctx(PROC2_EPT | PROC2_VPID | PROC2_VMFUNC, 1, &t1, eptp_a);
	vmwrite(VMCS_VMFUNC_CTL, 1);
	vmwrite(VMCS_EPTP_LIST, ent(eptp_list));
	vm_guest_regs.rdi = XLIN;
	vm_guest_regs.r8 = vm_guest_regs.r9 = vm_guest_regs.r10 = 0xdead;
	if (!enter(l2_vmfunc, "VMFUNC"))
		return;
	check(vm_guest_regs.r8 == VA, "VMFUNC: X through EPT A (%lx)",
	      (unsigned long)vm_guest_regs.r8);
	check(vm_guest_regs.r9 == VD, "VMFUNC: X through EPT B after the switch (%lx)",
	      (unsigned long)vm_guest_regs.r9);
	check(vm_guest_regs.r10 == VA, "VMFUNC: X through EPT A after switching back (%lx)",
	      (unsigned long)vm_guest_regs.r10);
	check(vmread(VMCS_EPTP) == eptp_a, "EPTP is A again");
	/* Repeated, with the sets of both EPTPs now warm. */
	if (enter(l2_vmfunc, "VMFUNC again"))
		check(vm_guest_regs.r8 == VA && vm_guest_regs.r9 == VD && vm_guest_regs.r10 == VA,
		      "VMFUNC again: %lx %lx %lx", (unsigned long)vm_guest_regs.r8,
		      (unsigned long)vm_guest_regs.r9, (unsigned long)vm_guest_regs.r10);
}

/* Case 8: INVLPG and MOV to CR3 in L2 invalidate the combined mappings of
 * the current VPID "for all EP4TAs" (§29.4.3.1): a mapping of X cached
 * under EPTP A must be gone after L2 changed its PTE and invalidated X
 * while running under EPTP B. */
static void case_l2_inval_all_eptps(void)
{
	/* Within one run, switching with VMFUNC. */
	reset();
	ctx(PROC2_EPT | PROC2_VPID | PROC2_VMFUNC, 1, &t1, eptp_a);
	vmwrite(VMCS_VMFUNC_CTL, 1);
	vmwrite(VMCS_EPTP_LIST, ent(eptp_list));
	vm_guest_regs.rdi = XLIN;
	vm_guest_regs.rsi = ent(&t1.pt[0]);
	vm_guest_regs.rdx = ent(pg.b) | PTE_PW;
	vm_guest_regs.r8 = vm_guest_regs.r9 = 0xdead;
	if (enter(l2_vmfunc_invlpg, "L2 INVLPG under EPTP B")) {
		check(vm_guest_regs.r8 == VA, "X under EPTP A (%lx)",
		      (unsigned long)vm_guest_regs.r8);
		check(vm_guest_regs.r9 == VB,
		      "L2 INVLPG X under EPTP B, back to EPTP A: new mapping (%lx, want %lx)",
		      (unsigned long)vm_guest_regs.r9, (unsigned long)VB);
	}

	/* Across VM entries: L1 switches the EPTP between them. */
	static const struct {
		const char *code, *what;
	} inv[2] = { { l2_invlpg, "INVLPG" }, { l2_movcr3, "MOV to CR3" } };
	for (int i = 0; i < 2; i++) {
		reset();
		ctx(PROC2_EPT | PROC2_VPID, 1, &t1, eptp_a);
		CHECK_X(VA, "EPTP A, first read");
		t1.pt[0] = ent(pg.c) | PTE_PW;
		vmwrite(VMCS_EPTP, eptp_b);
		vm_guest_regs.rdi = XLIN;
		if (!enter(inv[i].code, inv[i].what))
			continue;
		vmwrite(VMCS_EPTP, eptp_a);
		uint64_t x = l2_x(0, "back to EPTP A");
		check(x == VC, "L2 %s under EPTP B, then EPTP A: new mapping (%lx, want %lx)",
		      inv[i].what, (unsigned long)x, (unsigned long)VC);
	}
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_vpid");
	uint64_t p2 = rdmsr(0x48b) >> 32;
	uint64_t cap = rdmsr(0x48c);
	check((p2 & PROC2_EPT) && (p2 & PROC2_VPID) && (p2 & PROC2_VMFUNC),
	      "EPT, VPID, VM functions allowed (%lx)", (unsigned long)p2);
	check((cap >> 40 & 0xf) == 0xf && (cap & (1ull << 32)), "all INVVPID types (%lx)",
	      (unsigned long)cap);
	check((cap & (3ull << 25)) == 3ull << 25 && (cap & (1ull << 20)), "both INVEPT types");
	check(rdmsr(0x491) & 1, "EPTP switching");

	tlb_fixture_init();
	build_ept();
	write_cr3(read_cr3());

	vmx_lib_vmcs_init(ent(l2_read), ent(gstack + sizeof(gstack)), 0, PROC2_EPT | PROC2_VPID);
	case_l1_invlpg();
	case_invvpid();
	case_no_vpid();
	case_invept();
	case_host_guest();
	case_two_vpids();
	case_vmfunc();
	case_l2_inval_all_eptps();

	vmx_lib_off();
	pml4[1] = 0;
	write_cr3(read_cr3());
	return report("g64_vmx_vpid");
}
