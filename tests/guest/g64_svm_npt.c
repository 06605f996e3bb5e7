/*
 * g64_svm_npt — nested paging (APM Vol. 2 §15.25): an identity NPT (host
 * long-mode format, user pages: every nested access is a user access)
 * under a 64-bit guest; #VMEXIT(NPF, 400h) for a not-present nested page
 * (EXITINFO1 = #PF-style error code | bit 32 "final translation",
 * EXITINFO2 = the guest-physical address), for a write to a read-only
 * nested page, and for a guest page-table access whose nested page is not
 * present (bit 33, EXITINFO2 = the guest PTE's address); each is fixed and
 * the guest resumes at the faulting instruction. Nested A bits are set. An
 * NPF while an exception is delivered reports it in EXITINTINFO.
 */
#include "g64_svm.h"
#include "stage2_lib.h"

#define P  1ull
#define RW 2ull
#define US 4ull
#define A  0x20ull

static struct s2 npt;
/* The guest shares the GPRs with the host, which changes them between
 * runs: the faulting instructions address tp RIP-relative, so resuming at
 * them needs no register state. 32 KiB aligned: all five pages share one 2 MiB region (npt.pt). */
struct tp {
	uint8_t np[4096], ro[4096];
	uint64_t gpml4[512], gpdpt[512];
	uint64_t gidt[256][2];
};
struct tp tp __attribute__((aligned(32768)));
extern volatile uint64_t pdpt[]; /* boot identity map (lib/boot.S) */

volatile ureg np_addr, ro_addr;
volatile uint64_t l2_val;

__asm__(".text\n.globl l2_npt, l2_np, l2_ro, l2_done\n"
	"l2_npt: nop\n"
	"l2_np: mov tp+0x18(%rip), %rax\n"
	" mov %rax, l2_val(%rip)\n"
	"l2_ro: movq $0x55, tp+4096+0x20(%rip)\n"
	"l2_done: vmmcall\n jmp l2_done\n"
	"l2_ud: ud2\n");
void l2_npt(void);
extern char l2_np[], l2_ro[], l2_done[], l2_ud[];

static volatile uint64_t *npte(const void *p)
{
	return s2_leaf(&npt, (ureg)p);
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_npt");
	}
	/* Identity NPT of 4 GiB with 2 MiB pages; the 2 MiB region of tp
	 * with 4 KiB pages. */
	s2_identity(&npt, (ureg)&tp, P | RW | US, P | RW | US);

	np_addr = (ureg)tp.np + 0x18;
	ro_addr = (ureg)tp.ro + 0x20;
	*(volatile uint64_t *)np_addr = 0xabcdef;
	*npte(tp.np) &= ~P;
	*npte(tp.ro) &= ~RW;

	vmcb_init(vmcb, l2_npt);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_NPF, "not-present nested page: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (1ull << 32 | US),
	      "NPF read, not present: EXITINFO1 %lx", (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == np_addr, "NPF: EXITINFO2 %lx (want %lx)",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO2), (unsigned long)np_addr);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_np, "NPF: RIP at the access");

	*npte(tp.np) |= P;
	e = svm_run(vmcb);
	check(e == EXIT_NPF, "read-only nested page: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (1ull << 32 | US | RW | P),
	      "NPF write, protection: EXITINFO1 %lx", (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == ro_addr, "NPF write: EXITINFO2");
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_ro, "NPF write: RIP");
	check(l2_val == 0xabcdef, "the guest read the fixed page: %lx", (unsigned long)l2_val);

	*npte(tp.ro) |= RW;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "resumed to VMMCALL: exit %lx", (unsigned long)e);
	check(*(volatile uint64_t *)ro_addr == 0x55, "the guest's write landed");
	check(*npte(tp.np) & A, "nested A bit set");

	/* A guest page-table access through a not-present nested page. */
	for (int i = 0; i < 4; i++)
		tp.gpdpt[i] = pdpt[i];
	tp.gpml4[0] = (ureg)tp.gpdpt | P | RW;
	*npte(tp.gpdpt) &= ~P;
	vmcb_init(vmcb, (void (*)(void))l2_done);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	VMCB64(vmcb, V_CR3) = (ureg)tp.gpml4;
	e = svm_run(vmcb);
	check(e == EXIT_NPF, "guest walk through a missing nested page: exit %lx",
	      (unsigned long)e);
	uint64_t i1 = VMCB64(vmcb, V_EXITINFO1);
	check((i1 & (3ull << 32 | P | US)) == (1ull << 33 | US),
	      "NPF in the guest walk: EXITINFO1 %lx", (unsigned long)i1);
	check(VMCB64(vmcb, V_EXITINFO2) == (ureg)tp.gpdpt, "walk NPF: EXITINFO2 = PDPTE address");
	*npte(tp.gpdpt) |= P;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "walk fixed, resumed: exit %lx", (unsigned long)e);

	/* An NPF while delivering #UD (the guest's IDT page is not present
	 * in the NPT): EXITINTINFO holds the #UD being delivered. */
	*npte(tp.gidt) &= ~P;
	vmcb_init(vmcb, (void (*)(void))l2_ud);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	vmcb_seg(vmcb, V_IDTR, 0, 0, sizeof(tp.gidt) - 1, (ureg)tp.gidt);
	e = svm_run(vmcb);
	check(e == EXIT_NPF, "NPF reading the guest IDT: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (1ull << 32 | US), "IDT NPF: EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == (ureg)tp.gidt[6], "IDT NPF: EXITINFO2 = gate 6");
	check((VMCB64(vmcb, V_EXITINTINFO) & 0xffffffffull) == (1u << 31 | 3u << 8 | 6),
	      "IDT NPF: EXITINTINFO = #UD %lx", (unsigned long)VMCB64(vmcb, V_EXITINTINFO));
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_ud, "IDT NPF: RIP at the UD2");

	/* The same for an event injected by VMRUN (EVENTINJ: #UD): the NPF
	 * exits with the injected event in EXITINTINFO, and the host is
	 * itself again: no guest intercept is left armed (its next VMRUN,
	 * VMSAVE... run as the host's). */
	vmcb_init(vmcb, (void (*)(void))l2_done);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	vmcb_seg(vmcb, V_IDTR, 0, 0, sizeof(tp.gidt) - 1, (ureg)tp.gidt);
	VMCB64(vmcb, V_EVENTINJ) = 1u << 31 | 3u << 8 | 6;
	e = svm_run(vmcb);
	check(e == EXIT_NPF, "NPF delivering an injected #UD: exit %lx", (unsigned long)e);
	check((VMCB64(vmcb, V_EXITINTINFO) & 0xffffffffull) == (1u << 31 | 3u << 8 | 6),
	      "injected #UD in EXITINTINFO %lx", (unsigned long)VMCB64(vmcb, V_EXITINTINFO));
	*npte(tp.gidt) |= P;
	vmcb_init(vmcb, (void (*)(void))l2_done);
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "the host runs a guest again after it: exit %lx",
	      (unsigned long)e);
	return report("g64_svm_npt");
}
