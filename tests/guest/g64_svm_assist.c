/*
 * g64_svm_assist — decode assists (AMD APM Vol. 2 §15.33) and the #PF /
 * NPF exit information: EXITINFO1 of MOV-to/from-CR exits (bit 63 = MOV,
 * bits 3:0 = the GPR; LMSW and SMSW leave bit 63 clear), of the selective
 * CR0 write, of MOV DR (the GPR), INTn (the vector), INVLPG (the linear
 * address) and INVLPGA (rAX); a #PF intercept reports the fault address in
 * EXITINFO2 and leaves the guest's CR2 alone (§15.12), and with the
 * instruction bytes at the guest's RIP in INSN_LEN/INSN_BYTES; a nested
 * page fault on a data access carries the bytes too, one on the
 * instruction fetch itself carries none.
 */
#include "g64_svm.h"
#include "stage2_lib.h"

#define P  1ull
#define RW 2ull
#define US 4ull

extern volatile uint64_t pdpt[]; /* boot identity map (lib/boot.S) */
static uint64_t g_pml4[512] __attribute__((aligned(4096)));
static uint64_t g_pdpt[512] __attribute__((aligned(4096)));
static struct s2 npt;
/* Two pages in one 2 MiB region mapped with 4K nested pages: data to read,
 * and code to jump to. */
struct np {
	uint8_t data[4096];
	uint8_t code[4096];
};
static struct np np __attribute__((aligned(8192)));
volatile uint64_t l2_target;

__asm__(".text\n"
	".globl l2_cr3r, l2_cr4w, l2_cr4wi, l2_sel, l2_selw, l2_lmsw, l2_lmswi, l2_smsw\n"
	".globl l2_drw, l2_drwi, l2_int, l2_invlpg, l2_invlpga, l2_invlpgai, l2_pf, l2_pfi\n"
	".globl l2_npf, l2_npfi, l2_jmp, l2_vmm\n"
	"l2_cr3r: mov %cr3, %r13\n jmp l2_vmm\n"
	"l2_cr4w: mov %cr4, %r9\n"
	"l2_cr4wi: mov %r9, %cr4\n jmp l2_vmm\n"
	"l2_sel: mov %cr0, %rdx\n bts $30, %rdx\n"
	"l2_selw: mov %rdx, %cr0\n jmp l2_vmm\n"
	"l2_lmsw: smsw %eax\n"
	"l2_lmswi: lmsw %ax\n jmp l2_vmm\n"
	"l2_smsw: smsw %eax\n jmp l2_vmm\n"
	"l2_drw: mov $0x400, %r11d\n"
	"l2_drwi: mov %r11, %dr7\n jmp l2_vmm\n"
	"l2_int: int $0x42\n jmp l2_vmm\n"
	"l2_invlpg: invlpg l2_target(%rip)\n jmp l2_vmm\n"
	"l2_invlpga: mov $0x12345000, %eax\n mov $1, %ecx\n"
	"l2_invlpgai: invlpga\n jmp l2_vmm\n"
	"l2_pf: mov $0xc0000010, %ebx\n"
	"l2_pfi: mov (%rbx), %eax\n jmp l2_vmm\n"
	"l2_npf: lea np(%rip), %rbx\n"
	"l2_npfi: mov 8(%rbx), %eax\n jmp l2_vmm\n"
	"l2_jmp: lea np+4096(%rip), %rbx\n jmp *%rbx\n"
	"l2_vmm: vmmcall\n jmp l2_vmm\n");
void l2_cr3r(void), l2_cr4w(void), l2_sel(void), l2_lmsw(void), l2_smsw(void), l2_drw(void);
void l2_int(void), l2_invlpg(void), l2_invlpga(void), l2_pf(void), l2_npf(void), l2_jmp(void);
extern char l2_cr4wi[], l2_selw[], l2_lmswi[], l2_drwi[], l2_invlpgai[], l2_pfi[], l2_npfi[];
extern char l2_vmm[];

static uint64_t run(void (*rip)(void), uint32_t cr, uint32_t dr, uint32_t exc, uint32_t misc1)
{
	vmcb_init(vmcb, rip);
	VMCB32(vmcb, V_ICPT_CR) = cr;
	VMCB32(vmcb, V_ICPT_DR) = dr;
	VMCB32(vmcb, V_ICPT_EXC) = exc;
	VMCB32(vmcb, V_ICPT_MISC1) = misc1;
	return svm_run(vmcb);
}

#define I1_CR0_SEL (1u << 5)
#define MOVBIT     (1ull << 63)

static int same(const uint8_t *a, const void *b, unsigned n)
{
	const uint8_t *p = b;
	for (unsigned i = 0; i < n; i++)
		if (a[i] != p[i])
			return 0;
	return 1;
}

static void test_cr_dr(void)
{
	uint64_t e = run(l2_cr3r, 1u << 3, 0, 0, 0);
	check(e == 0x03, "CR3 read: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (MOVBIT | 13), "MOV from CR3 to R13: EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));

	e = run(l2_cr4w, 1u << 20, 0, 0, 0);
	check(e == 0x14 && VMCB64(vmcb, V_RIP) == (ureg)l2_cr4wi, "CR4 write: exit %lx",
	      (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (MOVBIT | 9), "MOV R9 to CR4: EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));

	e = run(l2_sel, 0, 0, 0, I1_CR0_SEL);
	check(e == EXIT_CR0_SEL && VMCB64(vmcb, V_RIP) == (ureg)l2_selw,
	      "selective CR0 write: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (MOVBIT | 2), "MOV RDX to CR0 (0x65): EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));

	e = run(l2_lmsw, 1u << 16, 0, 0, 0);
	check(e == 0x10 && VMCB64(vmcb, V_RIP) == (ureg)l2_lmswi, "LMSW: CR0 write exit %lx",
	      (unsigned long)e);
	check(!(VMCB64(vmcb, V_EXITINFO1) & MOVBIT), "LMSW: EXITINFO1 bit 63 clear");

	e = run(l2_smsw, 1u << 0, 0, 0, 0);
	check(e == 0x00 && VMCB64(vmcb, V_RIP) == (ureg)l2_smsw, "SMSW: CR0 read exit %lx",
	      (unsigned long)e);
	check(!(VMCB64(vmcb, V_EXITINFO1) & MOVBIT), "SMSW: EXITINFO1 bit 63 clear");

	e = run(l2_drw, 0, 1u << (16 + 7), 0, 0);
	check(e == 0x37 && VMCB64(vmcb, V_RIP) == (ureg)l2_drwi, "DR7 write: exit %lx",
	      (unsigned long)e);
	check((VMCB64(vmcb, V_EXITINFO1) & 15) == 11, "MOV R11 to DR7: EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
}

static void test_insn_operands(void)
{
	uint64_t e = run(l2_int, 0, 0, 0, I1_INTN);
	check(e == EXIT_SWINT && VMCB64(vmcb, V_EXITINFO1) == 0x42, "INT 42h: exit %lx info1 %lx",
	      (unsigned long)e, (unsigned long)VMCB64(vmcb, V_EXITINFO1));

	e = run(l2_invlpg, 0, 0, 0, I1_INVLPG);
	check(e == EXIT_INVLPG && VMCB64(vmcb, V_EXITINFO1) == (ureg)&l2_target,
	      "INVLPG: exit %lx, EXITINFO1 = the linear address %lx", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));

	e = run(l2_invlpga, 0, 0, 0, I1_INVLPGA);
	check(e == EXIT_INVLPGA && VMCB64(vmcb, V_RIP) == (ureg)l2_invlpgai, "INVLPGA: exit %lx",
	      (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == 0x12345000, "INVLPGA: EXITINFO1 = rAX %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
}

/* #PF intercept: the guest's own page tables leave 3-4 GiB not present. */
static void test_pf(void)
{
	for (int i = 0; i < 3; i++)
		g_pdpt[i] = pdpt[i];
	g_pdpt[3] = 0;
	g_pml4[0] = (ureg)g_pdpt | P | RW;
	vmcb_init(vmcb, l2_pf);
	VMCB64(vmcb, V_CR3) = (ureg)g_pml4;
	VMCB64(vmcb, V_CR2) = 0x1234;
	VMCB32(vmcb, V_ICPT_EXC) = 1u << 14;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_EXC(14) && VMCB64(vmcb, V_RIP) == (ureg)l2_pfi, "#PF intercept: exit %lx",
	      (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == 0, "#PF: error code %lx (not present, read)",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == 0xc0000010, "#PF: EXITINFO2 = the address %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO2));
	check(VMCB64(vmcb, V_CR2) == 0x1234, "#PF intercepted: guest CR2 not written (%lx)",
	      (unsigned long)VMCB64(vmcb, V_CR2));
	check(VMCB8(vmcb, V_INSN_LEN) == 15, "#PF: INSN_LEN %u", VMCB8(vmcb, V_INSN_LEN));
	check(same(vmcb + V_INSN_BYTES, l2_pfi, 15), "#PF: INSN_BYTES = the code at RIP");
}

static void test_npf(void)
{
	s2_identity(&npt, (ureg)&np, P | RW | US, P | RW | US);
	*s2_leaf(&npt, (ureg)np.data) &= ~P;
	*s2_leaf(&npt, (ureg)np.code) &= ~P;
	np.code[0] = 0x90; /* nop; vmmcall */
	np.code[1] = 0x0f;
	np.code[2] = 0x01;
	np.code[3] = 0xd9;

	vmcb_init(vmcb, l2_npf);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_NPF && VMCB64(vmcb, V_RIP) == (ureg)l2_npfi, "NPF on data: exit %lx",
	      (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO2) == (ureg)np.data + 8, "NPF: EXITINFO2 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO2));
	check(VMCB8(vmcb, V_INSN_LEN) == 15 && same(vmcb + V_INSN_BYTES, l2_npfi, 15),
	      "NPF on data: INSN_LEN %u and the bytes at RIP", VMCB8(vmcb, V_INSN_LEN));

	/* With EFER.NXE the nested #PF error code has ID for a fetch. */
	uint64_t efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer | 1u << 11);
	vmcb_init(vmcb, l2_jmp);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt.pml4;
	for (int i = 0; i < 16; i++)
		VMCB8(vmcb, V_INSN_LEN + i) = 0xcc;
	e = svm_run(vmcb);
	check(e == EXIT_NPF && VMCB64(vmcb, V_RIP) == (ureg)np.code, "NPF on fetch: exit %lx",
	      (unsigned long)e);
	check((VMCB64(vmcb, V_EXITINFO1) & 0x10) && (VMCB64(vmcb, V_EXITINFO1) & (1ull << 32)),
	      "NPF on fetch: EXITINFO1 %lx (ID, final)", (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB8(vmcb, V_INSN_LEN) == 0, "NPF on fetch: no bytes (INSN_LEN %u)",
	      VMCB8(vmcb, V_INSN_LEN));
	*s2_leaf(&npt, (ureg)np.code) |= P;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "fetch page mapped: the code ran (exit %lx)", (unsigned long)e);
	wrmsr(MSR_EFER, efer);
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_assist");
	}
	check(svm_features() & SVMF_DECODE, "CPUID 8000_000Ah EDX.DecodeAssists");
	test_cr_dr();
	test_insn_operands();
	test_pf();
	test_npf();
	return report("g64_svm_assist");
}
