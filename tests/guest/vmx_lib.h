/*
 * tests/guest/vmx_lib.h — the small L1 hypervisor kit of the g64_vmx_*
 * guests: VMX instructions as inline functions, VMXON/VMXOFF, a VMCS for a
 * 64-bit guest that shares the host's GDT, IDT, TSS and page tables, and
 * vm_enter(), which VMLAUNCHes/VMRESUMEs and returns at the next VM exit.
 * Include it from exactly one file per guest (it defines vm_enter).
 */
#ifndef VMX_LIB_H
#define VMX_LIB_H

#include "trap.h"

/* VMCS encodings (SDM Vol. 3C App. B). */
#define VMCS_VPID             0x0000
#define VMCS_GUEST_ES_SEL     0x0800
#define VMCS_HOST_ES_SEL      0x0c00
#define VMCS_HOST_CS_SEL      0x0c02
#define VMCS_HOST_SS_SEL      0x0c04
#define VMCS_HOST_DS_SEL      0x0c06
#define VMCS_HOST_FS_SEL      0x0c08
#define VMCS_HOST_GS_SEL      0x0c0a
#define VMCS_HOST_TR_SEL      0x0c0c
#define VMCS_EPTP             0x201a
#define VMCS_GUEST_PHYS       0x2400
#define VMCS_LINK_PTR         0x2800
#define VMCS_PIN              0x4000
#define VMCS_PROC             0x4002
#define VMCS_EXC_BITMAP       0x4004
#define VMCS_EXIT_CTLS        0x400c
#define VMCS_ENTRY_CTLS       0x4012
#define VMCS_ENTRY_INTR       0x4016
#define VMCS_ENTRY_ERRCODE    0x4018
#define VMCS_ENTRY_INSN_LEN   0x401a
#define VMCS_PROC2            0x401e
#define VMCS_VM_INSN_ERROR    0x4400
#define VMCS_EXIT_REASON      0x4402
#define VMCS_EXIT_INTR_INFO   0x4404
#define VMCS_EXIT_INTR_ERR    0x4406
#define VMCS_EXIT_INSN_LEN    0x440c
#define VMCS_GUEST_ES_LIMIT   0x4800
#define VMCS_GUEST_ES_AR      0x4814
#define VMCS_GUEST_LDTR_AR    0x4820
#define VMCS_GUEST_TR_AR      0x4822
#define VMCS_GUEST_ACTIVITY   0x4826
#define VMCS_HOST_SYSENTER_CS 0x4c00
#define VMCS_EXIT_QUAL        0x6400
#define VMCS_GUEST_LINEAR     0x640a
#define VMCS_GUEST_CR0        0x6800
#define VMCS_GUEST_CR3        0x6802
#define VMCS_GUEST_CR4        0x6804
#define VMCS_GUEST_ES_BASE    0x6806
#define VMCS_GUEST_TR_BASE    0x6814
#define VMCS_GUEST_GDTR_BASE  0x6816
#define VMCS_GUEST_IDTR_BASE  0x6818
#define VMCS_GUEST_DR7        0x681a
#define VMCS_GUEST_RSP        0x681c
#define VMCS_GUEST_RIP        0x681e
#define VMCS_GUEST_RFLAGS     0x6820
#define VMCS_HOST_CR0         0x6c00
#define VMCS_HOST_CR3         0x6c02
#define VMCS_HOST_CR4         0x6c04
#define VMCS_HOST_FS_BASE     0x6c06
#define VMCS_HOST_GS_BASE     0x6c08
#define VMCS_HOST_TR_BASE     0x6c0a
#define VMCS_HOST_GDTR_BASE   0x6c0c
#define VMCS_HOST_IDTR_BASE   0x6c0e
#define VMCS_HOST_RSP         0x6c14
#define VMCS_HOST_RIP         0x6c16
#define VMCS_GUEST_GDTR_LIMIT 0x4810
#define VMCS_GUEST_IDTR_LIMIT 0x4812

static inline void vmwrite(uint64_t enc, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(enc), "rm"(v) : "cc", "memory");
}
static inline uint64_t vmread(uint64_t enc)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(enc) : "cc");
	return v;
}
/* 0 VMsucceed, 1 VMfailInvalid, 2 VMfailValid */
static inline int vmx_ptr_op(int which, uint64_t pa)
{
	uint8_t cf, zf;
	if (which == 0)
		__asm__ volatile("vmxon %2; setc %0; setz %1"
				 : "=r"(cf), "=r"(zf)
				 : "m"(pa)
				 : "cc", "memory");
	else if (which == 1)
		__asm__ volatile("vmclear %2; setc %0; setz %1"
				 : "=r"(cf), "=r"(zf)
				 : "m"(pa)
				 : "cc", "memory");
	else
		__asm__ volatile("vmptrld %2; setc %0; setz %1"
				 : "=r"(cf), "=r"(zf)
				 : "m"(pa)
				 : "cc", "memory");
	return cf ? 1 : zf ? 2 : 0;
}

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_region[4096] __attribute__((aligned(4096)));

/* The guest's general registers other than RSP, kept here between exits
 * (VMX switches only RSP/RIP/RFLAGS): order rax rbx rcx rdx rsi rdi rbp
 * r8..r15. */
struct vm_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
struct vm_regs vm_guest_regs;

/* int vm_enter(int launch, int unused): 0 after a VM exit, 1 VMfailInvalid,
 * 2 VMfailValid. */
int vm_enter(int launch, int unused);
__asm__(".text\n"
	".globl vm_enter\n"
	"vm_enter:\n"
	"  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"  mov $0x6c14, %eax\n"
	"  vmwrite %rsp, %rax\n"
	"  lea 1f(%rip), %rdx\n"
	"  mov $0x6c16, %eax\n"
	"  vmwrite %rdx, %rax\n"
	"  test %edi, %edi\n" /* ZF survives the MOVs below */
	"  mov vm_guest_regs+0(%rip), %rax\n"
	"  mov vm_guest_regs+8(%rip), %rbx\n"
	"  mov vm_guest_regs+16(%rip), %rcx\n"
	"  mov vm_guest_regs+24(%rip), %rdx\n"
	"  mov vm_guest_regs+32(%rip), %rsi\n"
	"  mov vm_guest_regs+40(%rip), %rdi\n"
	"  mov vm_guest_regs+48(%rip), %rbp\n"
	"  mov vm_guest_regs+56(%rip), %r8\n"
	"  mov vm_guest_regs+64(%rip), %r9\n"
	"  mov vm_guest_regs+72(%rip), %r10\n"
	"  mov vm_guest_regs+80(%rip), %r11\n"
	"  mov vm_guest_regs+88(%rip), %r12\n"
	"  mov vm_guest_regs+96(%rip), %r13\n"
	"  mov vm_guest_regs+104(%rip), %r14\n"
	"  mov vm_guest_regs+112(%rip), %r15\n"
	"  jz 3f\n"
	"  vmlaunch\n"
	"  jmp 4f\n"
	"3: vmresume\n"
	"4: mov $1, %eax\n"
	"  jc 2f\n"
	"  mov $2, %eax\n"
	"  jmp 2f\n"
	"1: mov %rax, vm_guest_regs+0(%rip)\n"
	"  mov %rbx, vm_guest_regs+8(%rip)\n"
	"  mov %rcx, vm_guest_regs+16(%rip)\n"
	"  mov %rdx, vm_guest_regs+24(%rip)\n"
	"  mov %rsi, vm_guest_regs+32(%rip)\n"
	"  mov %rdi, vm_guest_regs+40(%rip)\n"
	"  mov %rbp, vm_guest_regs+48(%rip)\n"
	"  mov %r8, vm_guest_regs+56(%rip)\n"
	"  mov %r9, vm_guest_regs+64(%rip)\n"
	"  mov %r10, vm_guest_regs+72(%rip)\n"
	"  mov %r11, vm_guest_regs+80(%rip)\n"
	"  mov %r12, vm_guest_regs+88(%rip)\n"
	"  mov %r13, vm_guest_regs+96(%rip)\n"
	"  mov %r14, vm_guest_regs+104(%rip)\n"
	"  mov %r15, vm_guest_regs+112(%rip)\n"
	"  xor %eax, %eax\n"
	"2: pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"  ret\n");

static inline uint32_t vmx_ctl(uint32_t msr, uint32_t want)
{
	uint64_t v = rdmsr(msr);
	return (want | (uint32_t)v) & (uint32_t)(v >> 32);
}

/* VMXON; false (with a failed check) if VMX is missing or refused. */
static int vmx_lib_on(void)
{
	uint32_t r[4];
	cpuid2(1, 0, r);
	check(r[2] & (1u << 5), "CPUID.1:ECX.VMX");
	if (!(r[2] & (1u << 5)))
		return 0;
	uint64_t fc = rdmsr(0x3a);
	if (!(fc & 1))
		wrmsr(0x3a, fc | 5);
	write_cr4(read_cr4() | (1u << 13));
	uint32_t rev = (uint32_t)rdmsr(0x480) & 0x7fffffff;
	*(uint32_t *)vmxon_region = rev;
	*(uint32_t *)vmcs_region = rev;
	int e = vmx_ptr_op(0, (uint64_t)vmxon_region);
	check(e == 0, "VMXON succeeds (%d)", e);
	e = vmx_ptr_op(1, (uint64_t)vmcs_region);
	check(e == 0, "VMCLEAR succeeds (%d)", e);
	e = vmx_ptr_op(2, (uint64_t)vmcs_region);
	check(e == 0, "VMPTRLD succeeds (%d)", e);
	return e == 0;
}

static void vmx_lib_off(void)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxoff; setc %0; setz %1" : "=r"(cf), "=r"(zf)::"cc");
	check(!cf && !zf, "VMXOFF succeeds");
	write_cr4(read_cr4() & ~(1ul << 13));
}

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* A VMCS for a 64-bit guest at rip/rsp sharing the host's tables. proc and
 * proc2 are OR-ed into the default controls (HLT and unconditional I/O
 * exiting, secondary controls when proc2 != 0). */
static void vmx_lib_vmcs_init(uint64_t rip, uint64_t rsp, uint32_t proc, uint32_t proc2)
{
	struct dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	uint32_t p = (1u << 7) | (1u << 24) | proc | (proc2 ? 1u << 31 : 0);
	vmwrite(VMCS_PIN, vmx_ctl(0x48d, 0));
	vmwrite(VMCS_PROC, vmx_ctl(0x48e, p));
	if (proc2)
		vmwrite(VMCS_PROC2, vmx_ctl(0x48b, proc2));
	vmwrite(VMCS_EXIT_CTLS, vmx_ctl(0x48f, 1u << 9));
	vmwrite(VMCS_ENTRY_CTLS, vmx_ctl(0x490, 1u << 9));
	vmwrite(VMCS_EXC_BITMAP, 0);
	vmwrite(0x400a, 0); /* CR3-target count */
	vmwrite(0x400e, 0); /* MSR-store, MSR-load (exit), MSR-load (entry) counts */
	vmwrite(0x4010, 0);
	vmwrite(0x4014, 0);
	vmwrite(VMCS_ENTRY_INTR, 0);
	vmwrite(VMCS_LINK_PTR, ~0ull);

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, SEL_CODE64);
	vmwrite(VMCS_HOST_SS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_DS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_ES_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_FS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_GS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_TR_SEL, SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, 0);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&tss);
	vmwrite(VMCS_HOST_GDTR_BASE, g.base);
	vmwrite(VMCS_HOST_IDTR_BASE, i.base);

	vmwrite(VMCS_GUEST_CR0, read_cr0());
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());
	for (int s = 0; s < 6; s++) {
		vmwrite(VMCS_GUEST_ES_SEL + 2 * s, s == 1 ? SEL_CODE64 : SEL_DATA);
		vmwrite(VMCS_GUEST_ES_BASE + 2 * s, 0);
		vmwrite(VMCS_GUEST_ES_LIMIT + 2 * s, 0xffffffff);
		vmwrite(VMCS_GUEST_ES_AR + 2 * s, s == 1 ? 0xa09b : 0xc093);
	}
	vmwrite(VMCS_GUEST_LDTR_AR, 0x10000);
	vmwrite(VMCS_GUEST_ES_SEL + 14, SEL_TSS);
	vmwrite(VMCS_GUEST_TR_BASE, (uint64_t)&tss);
	vmwrite(VMCS_GUEST_ES_LIMIT + 14, sizeof(tss) - 1);
	vmwrite(VMCS_GUEST_TR_AR, 0x8b);
	vmwrite(VMCS_GUEST_GDTR_BASE, g.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, i.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, i.limit);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RSP, rsp);
	vmwrite(VMCS_GUEST_RIP, rip);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
}

#endif
