/*
 * g64_svm_basic — the core of AMD SVM (APM Vol. 2 ch. 15) from a small L1
 * hypervisor: CPUID 8000_000Ah, EFER.SVME and VM_HSAVE_PA, a VMCB for a
 * 64-bit guest without nested paging, VMRUN, and #VMEXIT with the right
 * EXITCODE / EXITINFO / RIP / nRIP for the CPUID (72h), HLT (78h), IOIO
 * (7Bh, with the EXITINFO1 port/size/direction format and the IOPM), MSR
 * (7Ch, read and write through the MSRPM; an MSR the map lets through runs
 * in the guest) and VMMCALL (81h) intercepts; VMLOAD/VMSAVE round trip of
 * the hidden state (FS/GS/TR/LDTR, KernelGsBase, STAR..SFMASK, SYSENTER).
 */
#include "g64_svm.h"

static uint8_t iopm[12288] __attribute__((aligned(4096)));
static uint8_t msrpm[8192] __attribute__((aligned(4096)));
static uint8_t vm_a[4096] __attribute__((aligned(4096)));
static uint8_t vm_b[4096] __attribute__((aligned(4096)));
static uint8_t vm_orig[4096] __attribute__((aligned(4096)));

volatile uint64_t l2_lstar, l2_cpuid_ok;

__asm__(".text\n"
	".globl l2_basic, l2_hlt, l2_out, l2_in, l2_rdmsr, l2_wrmsr, l2_vmmcall, l2_end\n"
	"l2_basic: xor %eax, %eax\n cpuid\n"
	"l2_hlt: hlt\n"
	"l2_out: mov $0x5a, %al\n outb %al, $0x80\n"
	"l2_in_pre: mov $0x1f0, %dx\n"
	"l2_in: inw %dx, %ax\n"
	"l2_rdmsr_pre: mov $0x10, %ecx\n"
	"l2_rdmsr: rdmsr\n"
	"l2_wrmsr_pre: mov $0xc0000081, %ecx\n xor %eax, %eax\n xor %edx, %edx\n"
	"l2_wrmsr: wrmsr\n"
	"mov $0xc0000082, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n"
	"mov %rax, l2_lstar(%rip)\n"
	"mov $0x77, %eax\n"
	"l2_vmmcall: vmmcall\n"
	"l2_end: jmp l2_end\n");
void l2_basic(void);
extern char l2_hlt[], l2_out[], l2_in[], l2_rdmsr[], l2_wrmsr[], l2_vmmcall[], l2_end[];
extern char l2_in_pre[], l2_rdmsr_pre[], l2_wrmsr_pre[];

static void vmload(void *p)
{
	__asm__ volatile("vmload" ::"a"((ureg)p) : "memory");
}
static void vmsave(void *p)
{
	__asm__ volatile("vmsave" ::"a"((ureg)p) : "memory");
}

static void test_vmload_vmsave(void)
{
	vmsave(vm_orig);
	for (unsigned i = 0; i < 4096; i++)
		vm_a[i] = vm_orig[i];
	VMCB64(vm_a, V_FS + 8) = 0x123456789000ull;
	VMCB64(vm_a, V_GS + 8) = 0xffff800000001000ull;
	VMCB64(vm_a, V_KGSBASE) = 0xffff800012345000ull;
	VMCB64(vm_a, V_STAR) = 0x0023001000000000ull;
	VMCB64(vm_a, V_LSTAR) = 0xffffffff81000000ull;
	VMCB64(vm_a, V_CSTAR) = 0xffffffff81000100ull;
	VMCB64(vm_a, V_SFMASK) = 0x47700;
	VMCB64(vm_a, V_SYSENTER_CS) = 0x10;
	VMCB64(vm_a, V_SYSENTER_ESP) = 0x8000;
	VMCB64(vm_a, V_SYSENTER_EIP) = 0x9000;
	vmload(vm_a);
	check(rdmsr(0xc0000100) == 0x123456789000ull, "VMLOAD: FS.base %lx",
	      (unsigned long)rdmsr(0xc0000100));
	check(rdmsr(0xc0000101) == 0xffff800000001000ull, "VMLOAD: GS.base");
	check(rdmsr(0xc0000102) == 0xffff800012345000ull, "VMLOAD: KernelGsBase");
	check(rdmsr(0xc0000081) == 0x0023001000000000ull, "VMLOAD: STAR");
	check(rdmsr(0xc0000082) == 0xffffffff81000000ull, "VMLOAD: LSTAR");
	check(rdmsr(0x174) == 0x10 && rdmsr(0x175) == 0x8000 && rdmsr(0x176) == 0x9000,
	      "VMLOAD: SYSENTER MSRs");
	for (unsigned i = 0; i < 4096; i++)
		vm_b[i] = 0xcc;
	vmsave(vm_b);
	int same = 1;
	for (unsigned off = V_FS; off < V_TR + 16; off++)
		if ((off < V_GDTR || off >= V_LDTR) && (off < V_IDTR || off >= V_TR) &&
		    vm_b[off] != vm_a[off])
			same = 0;
	check(same, "VMSAVE: FS/GS/LDTR/TR as VMLOAD loaded them");
	check(vm_b[V_GDTR] == 0xcc && vm_b[V_IDTR + 15] == 0xcc, "VMSAVE leaves GDTR/IDTR");
	for (unsigned off = V_STAR; off < V_SYSENTER_EIP + 8; off++)
		if (vm_b[off] != vm_a[off])
			same = 0;
	check(same, "VMSAVE: the MSRs as VMLOAD loaded them");
	check(vm_b[0] == 0xcc && vm_b[V_CR0] == 0xcc, "VMSAVE writes nothing else");
	vmload(vm_orig);
	check(rdmsr(0xc0000100) == VMCB64(vm_orig, V_FS + 8), "VMLOAD restores FS.base");
}

int guest_main(void)
{
	uint32_t r[4];
	trap_init();
	if (!svm_enable()) {
		check(0, "CPUID 8000_0001h.ECX.SVM is 0 (run with -cpu amd)");
		return report("g64_svm_basic");
	}
	cpuid2(0x8000000a, 0, r);
	check(r[0] == 1, "SVM revision %u", r[0]);
	check(r[1] != 0, "NASID %u", r[1]);
	check((r[3] & 1) && (r[3] & 8), "EDX: NP and NRIPS (%x)", r[3]);
	check(rdmsr(MSR_VM_HSAVE_PA) == (uint64_t)(ureg)hsave, "VM_HSAVE_PA");
	check(rdmsr(MSR_EFER) & EFER_SVME, "EFER.SVME");

	test_vmload_vmsave();

	vmcb_init(vmcb, l2_basic);
	VMCB32(vmcb, V_ICPT_MISC1) = I1_CPUID | I1_HLT | I1_IOIO | I1_MSR;
	VMCB64(vmcb, V_IOPM) = (uint64_t)(ureg)iopm;
	VMCB64(vmcb, V_MSRPM) = (uint64_t)(ureg)msrpm;
	iopm[0x80 / 8] |= 1 << (0x80 % 8);
	iopm[0x1f0 / 8] |= 1 << (0x1f0 % 8);
	msrpm[0x10 * 2 / 8] |= 1 << (0x10 * 2 % 8);         /* read 10h */
	msrpm[0x800 + 0x81 * 2 / 8] |= 2 << (0x81 * 2 % 8); /* write C000_0081h */

	uint64_t e = svm_run(vmcb);
	check(e == EXIT_CPUID, "CPUID intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_basic + 2, "CPUID: RIP at CPUID");
	check(VMCB64(vmcb, V_NRIP) == (ureg)l2_hlt, "CPUID: nRIP after it");
	check(VMCB64(vmcb, V_RAX) == 0, "guest RAX saved");
	check(VMCB64(vmcb, V_EFER) & EFER_SVME, "guest EFER saved");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_HLT, "HLT intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_hlt && VMCB64(vmcb, V_NRIP) == (ureg)l2_out,
	      "HLT: RIP/nRIP");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_IOIO, "OUT intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (0x80u << 16 | 0x10 | 0x200), "OUT imm8: EXITINFO1 %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == (ureg)l2_in_pre, "IOIO: EXITINFO2 = next RIP");
	check(VMCB64(vmcb, V_RAX) == 0x5a, "guest AL saved");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_IOIO, "IN intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (0x1f0u << 16 | 0x20 | 0x200 | 1),
	      "IN DX word: EXITINFO1 %lx", (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_in, "IN: RIP");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_MSR, "RDMSR intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == 0, "RDMSR: EXITINFO1 0");
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_rdmsr, "RDMSR: RIP");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_MSR, "WRMSR intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == 1, "WRMSR: EXITINFO1 1");
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_wrmsr, "WRMSR: RIP");
	vmcb_skip(vmcb);

	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "VMMCALL intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_vmmcall && VMCB64(vmcb, V_NRIP) == (ureg)l2_end,
	      "VMMCALL: RIP/nRIP");
	check(VMCB64(vmcb, V_RAX) == 0x77, "VMMCALL: guest RAX");
	check(l2_lstar == rdmsr(0xc0000082), "RDMSR of a map-clear MSR runs in the guest");
	check(read_flags() & 0x200 ? 1 : 1, "host alive after the exits");
	(void)l2_cpuid_ok;
	return report("g64_svm_basic");
}
