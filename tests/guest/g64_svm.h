/*
 * tests/guest/g64_svm.h — helpers of the g64_svm_* guests, small L1
 * hypervisors on AMD SVM (APM Vol. 2 ch. 15): the VMCB layout (Appendix B
 * offsets, accessed by offset so the guest does not share nestbox's
 * headers), SVM enable, a VMCB for a 64-bit guest that runs in the same
 * address space as the host (same CS/DS, CR3, GDT), and VMRUN.
 *
 * The L2 guest shares the general registers with the host (VMRUN saves
 * only RAX, RSP, RIP), so svm_run() keeps the callee-saved ones on the
 * stack and tells the compiler that the others are clobbered; guests
 * report results through memory.
 */
#ifndef G64_SVM_H
#define G64_SVM_H

#include "trap.h"

#define MSR_EFER        0xc0000080u
#define MSR_VM_CR       0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define EFER_SVME       (1ull << 12)

/* CPUID 8000_000Ah EDX: the SVM features. */
#define SVMF_NPT       (1u << 0)
#define SVMF_LBRV      (1u << 1)
#define SVMF_NRIPS     (1u << 3)
#define SVMF_TSCRATE   (1u << 4)
#define SVMF_CLEAN     (1u << 5)
#define SVMF_FLUSHASID (1u << 6)
#define SVMF_DECODE    (1u << 7)
#define SVMF_PAUSE     (1u << 10)
#define SVMF_PFTHRESH  (1u << 12)
#define SVMF_VLS       (1u << 15)
#define SVMF_VGIF      (1u << 16)

/* VMCB offsets (APM Vol. 2 Tables B-1, B-2). */
#define V_ICPT_CR      0x000
#define V_ICPT_DR      0x004
#define V_ICPT_EXC     0x008
#define V_ICPT_MISC1   0x00c
#define V_ICPT_MISC2   0x010
#define V_PAUSE_THRESH 0x03c
#define V_PAUSE_COUNT  0x03e
#define V_IOPM         0x040
#define V_MSRPM        0x048
#define V_TSC_OFFSET   0x050
#define V_ASID         0x058
#define V_TLB_CTL      0x05c
#define V_INT_CTL      0x060
#define V_INT_VECTOR   0x064
#define V_EXITCODE     0x070
#define V_EXITINFO1    0x078
#define V_EXITINFO2    0x080
#define V_EXITINTINFO  0x088
#define V_NP_CTL       0x090
#define V_EVENTINJ     0x0a8
#define V_N_CR3        0x0b0
#define V_VIRT_EXT     0x0b8
#define V_CLEAN        0x0c0
#define V_NRIP         0x0c8
#define V_INSN_LEN     0x0d0
#define V_INSN_BYTES   0x0d1
#define V_ES           0x400
#define V_CS           0x410
#define V_SS           0x420
#define V_DS           0x430
#define V_FS           0x440
#define V_GS           0x450
#define V_GDTR         0x460
#define V_LDTR         0x470
#define V_IDTR         0x480
#define V_TR           0x490
#define V_CPL          0x4cb
#define V_EFER         0x4d0
#define V_CR4          0x548
#define V_CR3          0x550
#define V_CR0          0x558
#define V_DR7          0x560
#define V_DR6          0x568
#define V_RFLAGS       0x570
#define V_RIP          0x578
#define V_RSP          0x5d8
#define V_RAX          0x5f8
#define V_STAR         0x600
#define V_LSTAR        0x608
#define V_CSTAR        0x610
#define V_SFMASK       0x618
#define V_KGSBASE      0x620
#define V_SYSENTER_CS  0x628
#define V_SYSENTER_ESP 0x630
#define V_SYSENTER_EIP 0x638
#define V_CR2          0x640
#define V_G_PAT        0x668
#define V_DBGCTL       0x670
#define V_BR_FROM      0x678
#define V_BR_TO        0x680

/* Intercept bits: vector 3 (00Ch) and vector 4 (010h). */
#define I1_INTR     (1u << 0)
#define I1_SMI      (1u << 2)
#define I1_VINTR    (1u << 4)
#define I1_CPUID    (1u << 18)
#define I1_RSM      (1u << 19)
#define I1_INTN     (1u << 21)
#define I1_PAUSE    (1u << 23)
#define I1_HLT      (1u << 24)
#define I1_INVLPG   (1u << 25)
#define I1_INVLPGA  (1u << 26)
#define I1_IOIO     (1u << 27)
#define I1_MSR      (1u << 28)
#define I1_TASKSW   (1u << 29)
#define I1_SHUTDOWN (1u << 31)
#define I2_VMRUN    (1u << 0)
#define I2_VMMCALL  (1u << 1)

/* Exit codes (APM Vol. 2 Appendix C). */
#define EXIT_EXC(v)   (0x40 + (v))
#define EXIT_VINTR    0x64
#define EXIT_CR0_SEL  0x65
#define EXIT_CPUID    0x72
#define EXIT_RSM      0x73
#define EXIT_SWINT    0x75
#define EXIT_PAUSE    0x77
#define EXIT_HLT      0x78
#define EXIT_INVLPG   0x79
#define EXIT_INVLPGA  0x7a
#define EXIT_IOIO     0x7b
#define EXIT_MSR      0x7c
#define EXIT_TASKSW   0x7d
#define EXIT_SHUTDOWN 0x7f
#define EXIT_VMMCALL  0x81
#define EXIT_NPF      0x400
#define EXIT_INVALID  0xffffffffffffffffull

#define VMCB8(v, off)  (*(volatile uint8_t *)((v) + (off)))
#define VMCB16(v, off) (*(volatile uint16_t *)((v) + (off)))
#define VMCB32(v, off) (*(volatile uint32_t *)((v) + (off)))
#define VMCB64(v, off) (*(volatile uint64_t *)((v) + (off)))

static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t l2_stack[8192] __attribute__((aligned(16)));

/* SVM present (CPUID 8000_0001h.ECX[2]) and enabled: EFER.SVME, HSAVE. */
static inline int svm_enable(void)
{
	uint32_t r[4];
	cpuid2(0x80000001u, 0, r);
	if (!(r[2] & 4))
		return 0;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)(ureg)hsave);
	return 1;
}

static inline void vmcb_seg(uint8_t *v, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
			    uint64_t base)
{
	VMCB16(v, off) = sel;
	VMCB16(v, off + 2) = attr;
	VMCB32(v, off + 4) = limit;
	VMCB64(v, off + 8) = base;
}

/* A VMCB for a 64-bit CPL-0 guest at rip with the host's CR0/CR3/CR4/
 * EFER/GDT/IDT, IF = 0; intercepts VMRUN and VMMCALL, ASID 1. */
static inline void vmcb_init(uint8_t *v, void (*rip)(void))
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	for (unsigned k = 0; k < 4096; k++)
		v[k] = 0;
	vmcb_seg(v, V_CS, SEL_CODE64, 0x29b, 0xffffffff, 0); /* P S code L */
	vmcb_seg(v, V_DS, SEL_DATA, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_ES, SEL_DATA, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_SS, SEL_DATA, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_GDTR, 0, 0, g.limit, g.base);
	vmcb_seg(v, V_IDTR, 0, 0, i.limit, i.base);
	VMCB64(v, V_CR0) = read_cr0();
	VMCB64(v, V_CR3) = read_cr3();
	VMCB64(v, V_CR4) = read_cr4();
	VMCB64(v, V_EFER) = rdmsr(MSR_EFER);
	VMCB64(v, V_DR7) = 0x400;
	VMCB64(v, V_DR6) = 0xffff0ff0;
	VMCB64(v, V_RFLAGS) = 2;
	VMCB64(v, V_RIP) = (uint64_t)(ureg)rip;
	VMCB64(v, V_RSP) = (uint64_t)(ureg)(l2_stack + sizeof(l2_stack));
	VMCB32(v, V_ICPT_MISC2) = I2_VMRUN | I2_VMMCALL;
	VMCB32(v, V_ASID) = 1;
}

/* CLGI; VMRUN; STGI. Returns the exit code. */
static inline uint64_t svm_run(uint8_t *v)
{
	__asm__ volatile("push %%rbp; push %%rbx; clgi; vmrun; stgi; pop %%rbx; pop %%rbp"
			 :
			 : "a"((ureg)v)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
			   "r14", "r15", "memory", "cc");
	return VMCB64(v, V_EXITCODE);
}

/* CPUID 8000_000Ah EDX. */
static inline uint32_t svm_features(void)
{
	uint32_t r[4];
	cpuid2(0x8000000a, 0, r);
	return r[3];
}

/* Continue after an intercepted instruction (nRIP). */
static inline void vmcb_skip(uint8_t *v)
{
	VMCB64(v, V_RIP) = VMCB64(v, V_NRIP);
}

#endif
