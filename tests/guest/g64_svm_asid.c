/*
 * g64_svm_asid — the ASID-tagged TLB under SVM (APM Vol. 2 §15.16, §15.25):
 * L1 runs a guest that reads linear X (and Y) through its own page tables
 * and changes what X maps to; after each operation that the APM says
 * flushes the mapping, the guest (or L1) must see the new page:
 *  - VMRUN with TLB_CONTROL 1 (all ASIDs), 3 (this guest's ASID) and 7
 *    (its non-global entries); INVLPGA of X in ASID 1 before a VMRUN with
 *    TLB_CONTROL 0;
 *  - a changed nested-page-table leaf, then TLB_CONTROL 3 or 1;
 *  - two ASIDs with different guest CR3s; INVLPGA of one ASID at a time;
 *  - the host's (ASID 0) and the guest's mappings of Y never mix; the
 *    host's INVLPG and INVLPGA with ECX = 0 survive a VMRUN and #VMEXIT;
 *  - another nCR3 under the same ASID, flushed with TLB_CONTROL 3.
 * Stale translations are never asserted (the architecture allows them where
 * no flush happened); such reads are only reported as notes.
 */
#include "g64_svm.h"
#include "stage2_lib.h"
#include "tlb_fixture.h"

#define P  1ull
#define RW 2ull
#define US 4ull

/* NPT A: identity, 2-MByte pages except the region of pg. NPT B: the same
 * except that guest-physical pg.a maps pg.d. User pages: every nested
 * access is a user access (§15.25.5). */
static struct s2 npt, nptb;

/* What the guest read (it shares no registers with L1 across VMRUN). */
volatile uint64_t g_x, g_y;

__asm__(".text\n"
	".globl l2_read, l2_invlpg\n"
	"l2_read:\n"
	"  movabs $0x8000000000, %rdi\n"
	"  mov (%rdi), %rax\n"
	"  mov %rax, g_x(%rip)\n"
	"  mov 0x1000(%rdi), %rax\n"
	"  mov %rax, g_y(%rip)\n"
	"  vmmcall\n"
	"l2_invlpg:\n"
	"  movabs $0x8000000000, %rdi\n"
	"  invlpg (%rdi)\n"
	"  vmmcall\n");
extern char l2_read[], l2_invlpg[];

static void invlpga(uint64_t lin, uint32_t asid)
{
	__asm__ volatile("invlpga" ::"a"(lin), "c"(asid) : "memory");
}

static void build_npt(void)
{
	s2_identity(&npt, ent(&pg), P | RW | US, P | RW | US);
	s2_identity(&nptb, ent(&pg), P | RW | US, P | RW | US);
	*s2_leaf(&nptb, ent(pg.a)) = ent(pg.d) | P | RW | US;
}

static void run_tlbctl(unsigned ctl, const char *what);

/* Every table back to the start and every cached mapping dropped
 * (TLB_CONTROL 1 flushes all ASIDs, the host's included). */
static void reset(void)
{
	build_gpt(&t1, pg.a, pg.g);
	build_gpt(&t2, pg.c, pg.g);
	th.pt[1] = ent(pg.h) | P | RW;
	*s2_leaf(&npt, ent(pg.a)) = ent(pg.a) | P | RW | US;
	write_cr3(read_cr3());
	VMCB32(vmcb, V_ASID) = 1;
	VMCB64(vmcb, V_CR3) = ent(t1.pml4);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = ent(npt.pml4);
	run_tlbctl(1, "reset");
}

/* The guest context of the next VMRUN (ncr3 0: no nested paging). */
static void ctx(uint32_t asid, const struct gpt *t, const uint64_t *ncr3)
{
	VMCB32(vmcb, V_ASID) = asid;
	VMCB64(vmcb, V_CR3) = ent(t->pml4);
	VMCB64(vmcb, V_NP_CTL) = ncr3 != 0;
	VMCB64(vmcb, V_N_CR3) = ent(ncr3);
}

/* VMRUN the guest at rip with TLB_CONTROL ctl to its VMMCALL; false (with
 * a failed check) otherwise. */
static int run_at(const char *rip, unsigned ctl, const char *what)
{
	VMCB64(vmcb, V_RIP) = ent(rip);
	VMCB8(vmcb, V_TLB_CTL) = (uint8_t)ctl;
	VMCB32(vmcb, V_CLEAN) = 0;
	uint64_t e = svm_run(vmcb);
	if (e != EXIT_VMMCALL) {
		check(0, "%s: guest runs to VMMCALL (exit %lx, info1 %lx, info2 %lx)", what,
		      (unsigned long)e, (unsigned long)VMCB64(vmcb, V_EXITINFO1),
		      (unsigned long)VMCB64(vmcb, V_EXITINFO2));
		return 0;
	}
	return 1;
}

static void run_tlbctl(unsigned ctl, const char *what)
{
	run_at(l2_read, ctl, what);
}

/* The guest reads X and Y with TLB_CONTROL ctl; returns [X], [Y] in *y. */
static uint64_t g_read(unsigned ctl, uint64_t *y, const char *what)
{
	g_x = g_y = 0xdead;
	if (!run_at(l2_read, ctl, what))
		return ~0ull;
	if (y)
		*y = g_y;
	return g_x;
}

#define CHECK_X(ctl, want, what)                                                              \
	do {                                                                                  \
		uint64_t x_ = g_read(ctl, 0, what);                                           \
		check(x_ == (want), "%s: guest reads %lx, want %lx", what, (unsigned long)x_, \
		      (unsigned long)(want));                                                 \
	} while (0)

/* A read where a stale value is allowed: only reported. */
static void note_x(uint64_t fresh, const char *what)
{
	uint64_t x = g_read(0, 0, what);
	guest_printf("note: %s: guest reads %s (%lx)\n", what,
		     x == fresh ? "the new mapping" : "a stale mapping (allowed)",
		     (unsigned long)x);
}

/* Case 1: guest PTE changes; TLB_CONTROL 3, 1, 7; INVLPGA(X, 1). */
static void case_tlb_control(void)
{
	reset();
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VA, "ASID 1 first read");
	t1.pt[0] = ent(pg.c) | P | RW;
	note_x(VC, "PTE changed, TLB_CONTROL 0");

	t1.pt[0] = ent(pg.b) | P | RW;
	CHECK_X(3, VB, "TLB_CONTROL 3 (flush this guest's ASID)");
	t1.pt[0] = ent(pg.c) | P | RW;
	CHECK_X(1, VC, "TLB_CONTROL 1 (flush all ASIDs)");
	t1.pt[0] = ent(pg.a) | P | RW;
	invlpga(XLIN, 1);
	CHECK_X(0, VA, "INVLPGA(X, 1), TLB_CONTROL 0");
	t1.pt[0] = ent(pg.b) | P | RW; /* not global: 7 flushes it */
	CHECK_X(7, VB, "TLB_CONTROL 7 (flush this guest's non-global entries)");

	/* The same without nested paging. */
	reset();
	ctx(1, &t1, 0);
	CHECK_X(0, VA, "no NPT: first read");
	t1.pt[0] = ent(pg.b) | P | RW;
	CHECK_X(3, VB, "no NPT: TLB_CONTROL 3");
	t1.pt[0] = ent(pg.c) | P | RW;
	invlpga(XLIN, 1);
	CHECK_X(0, VC, "no NPT: INVLPGA(X, 1)");
}

/* Case 2: a nested-page-table leaf changes, then TLB_CONTROL 3 or 1. */
static void case_npt_leaf(void)
{
	reset();
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VA, "NPT: first read");
	*s2_leaf(&npt, ent(pg.a)) = ent(pg.d) | P | RW | US;
	CHECK_X(3, VD, "NPT leaf changed, TLB_CONTROL 3");
	*s2_leaf(&npt, ent(pg.a)) = ent(pg.b) | P | RW | US;
	CHECK_X(1, VB, "NPT leaf changed, TLB_CONTROL 1");
	*s2_leaf(&npt, ent(pg.a)) = ent(pg.a) | P | RW | US;
	CHECK_X(3, VA, "NPT leaf restored, TLB_CONTROL 3");
}

/* Case 3: ASIDs 1 and 2 with different CR3s map X to different pages;
 * then both with one CR3, and INVLPGA of one ASID at a time. */
static void case_two_asids(void)
{
	reset();
	for (int k = 0; k < 3; k++) {
		ctx(1, &t1, npt.pml4);
		CHECK_X(0, VA, "ASID 1 with CR3 t1");
		ctx(2, &t2, npt.pml4);
		CHECK_X(0, VC, "ASID 2 with CR3 t2");
	}
	ctx(2, &t1, npt.pml4);
	CHECK_X(0, VA, "ASID 2 with CR3 t1");
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VA, "ASID 1 with CR3 t1");
	t1.pt[0] = ent(pg.b) | P | RW;
	invlpga(XLIN, 2);
	ctx(2, &t1, npt.pml4);
	CHECK_X(0, VB, "ASID 2 after INVLPGA(X, 2)");
	invlpga(XLIN, 1);
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VB, "ASID 1 after INVLPGA(X, 1)");
	t1.pt[0] = ent(pg.c) | P | RW;
	ctx(2, &t1, npt.pml4);
	CHECK_X(3, VC, "ASID 2 after TLB_CONTROL 3");
	ctx(1, &t1, npt.pml4);
	CHECK_X(3, VC, "ASID 1 after TLB_CONTROL 3");

	/* TLB_CONTROL 1 flushes the entire TLB: other ASIDs' entries and the
	 * host's too. */
	t1.pt[0] = ent(pg.a) | P | RW;
	check(l1_read(YLIN) == VH, "L1 reads its page at Y");
	th.pt[1] = ent(pg.d) | P | RW; /* no INVLPG */
	ctx(2, &t2, npt.pml4);
	CHECK_X(1, VC, "ASID 2 with TLB_CONTROL 1");
	check(l1_read(YLIN) == VD, "TLB_CONTROL 1 flushed the host's Y: L1 reads %lx",
	      (unsigned long)l1_read(YLIN));
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VA, "ASID 1 after ASID 2's TLB_CONTROL 1");
	th.pt[1] = ent(pg.h) | P | RW;
	invlpg(YLIN);
}

/* Case 4: the host's (ASID 0) and the guest's mappings of Y never mix;
 * the host's own invalidations survive a VMRUN and #VMEXIT. */
static void case_host_guest(void)
{
	for (int i = 0; i < 2; i++) {
		reset();
		ctx(1, &t1, i ? 0 : npt.pml4);
		for (int k = 0; k < 3; k++) {
			check(l1_read(YLIN) == VH, "L1 reads its page at Y (%s, round %d)",
			      i ? "no NPT" : "NPT", k);
			uint64_t y = 0;
			g_read(0, &y, "host/guest");
			check(y == VG,
			      "the guest reads its own page at Y, not L1's (%s, round %d): %lx",
			      i ? "no NPT" : "NPT", k, (unsigned long)y);
		}
		check(l1_read(YLIN) == VH, "L1 still reads its own page at Y");
	}

	/* L1 changes its own PTE of Y and INVLPGs it, then VMRUN. */
	reset();
	ctx(1, &t1, npt.pml4);
	check(l1_read(YLIN) == VH, "L1 reads its page at Y");
	th.pt[1] = ent(pg.c) | P | RW;
	invlpg(YLIN);
	uint64_t y = 0;
	g_read(0, &y, "after L1 INVLPG");
	check(y == VG, "the guest reads its own page at Y (%lx)", (unsigned long)y);
	check(l1_read(YLIN) == VC, "after #VMEXIT L1 reads Y's new page (%lx)",
	      (unsigned long)l1_read(YLIN));
	/* INVLPGA with ASID 0 is the host's INVLPG. */
	th.pt[1] = ent(pg.d) | P | RW;
	invlpga(YLIN, 0);
	g_read(0, &y, "after INVLPGA(Y, 0)");
	check(l1_read(YLIN) == VD, "INVLPGA(Y, 0), VMRUN, #VMEXIT: L1 reads Y's new page (%lx)",
	      (unsigned long)l1_read(YLIN));
}

/* Case 5: another nCR3 under the same ASID, flushed with TLB_CONTROL 3. */
static void case_ncr3(void)
{
	reset();
	ctx(1, &t1, npt.pml4);
	CHECK_X(0, VA, "nCR3 A: first read");
	for (int k = 0; k < 2; k++) {
		ctx(1, &t1, nptb.pml4);
		CHECK_X(3, VD, "nCR3 B, TLB_CONTROL 3");
		ctx(1, &t1, npt.pml4);
		CHECK_X(3, VA, "back to nCR3 A, TLB_CONTROL 3");
	}
	/* Not asserted: whether the guest's INVLPG of X under nCR3 B reaches
	 * the entries made under nCR3 A of the same ASID when L1 switches
	 * back without a flush (see the report of the VMX counterpart). */
	t1.pt[0] = ent(pg.b) | P | RW;
	ctx(1, &t1, nptb.pml4);
	run_at(l2_invlpg, 0, "guest INVLPG under nCR3 B");
	ctx(1, &t1, npt.pml4);
	note_x(VB, "guest INVLPG X under nCR3 B, back to nCR3 A, TLB_CONTROL 0");
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_asid");
	}
	uint32_t f = svm_features();
	check(f & SVMF_NPT, "nested paging");
	check(f & SVMF_FLUSHASID, "flush by ASID (TLB_CONTROL 3 and 7)");
	uint32_t r[4];
	cpuid2(0x8000000a, 0, r);
	check(r[1] >= 3, "at least 3 ASIDs (%u)", r[1]);

	tlb_fixture_init();
	build_npt();
	write_cr3(read_cr3());
	vmcb_init(vmcb, (void (*)(void))l2_read);

	case_tlb_control();
	case_npt_leaf();
	case_two_asids();
	case_host_guest();
	case_ncr3();

	pml4[1] = 0;
	write_cr3(read_cr3());
	return report("g64_svm_asid");
}
