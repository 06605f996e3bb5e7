/*
 * g64_svm_task — intercept corner cases (AMD APM Vol. 2 §15.9-15.14):
 * the task-switch intercept (7Dh) of a 32-bit protected-mode guest for a
 * far JMP, a far CALL, an INT n through a task gate, an exception through
 * a task gate and an IRET with NT: EXITINFO1 = the new TSS selector,
 * EXITINFO2 = bit 36 IRET / bit 38 JMP / bit 44 + 31:0 the error code, and
 * EXITINTINFO = the event being delivered through the gate; the INTn
 * intercept comes before the task switch. RSM is intercepted (73h), and
 * #UD without the intercept (nestbox has no SMM). LMSW exits under the
 * selective CR0 intercept even when it changes nothing. A host with
 * RFLAGS.TF at VMRUN takes its single-step #DB after the #VMEXIT, on the
 * instruction after VMRUN.
 */
#include "g64_svm.h"

struct tss32s {
	uint32_t link, rest[25];
};
static struct tss32s tss_avail, tss_cur, tss_back;
static uint64_t l2_gdt[8] __attribute__((aligned(16)));
static uint64_t l2_idt[256] __attribute__((aligned(16)));
static uint8_t vm_orig[4096] __attribute__((aligned(4096)));
static uint8_t vm_l2[4096] __attribute__((aligned(4096)));

__asm__(".text\n.globl l2_tjmp, l2_tcall, l2_tint, l2_tgp, l2_tiret, l2_rsm, l2_lmsw0\n"
	".code32\n"
	"l2_tjmp: ljmp $0x18, $0\n"
	"l2_tcall: lcall $0x18, $0\n"
	"l2_tint: int $0x50\n"
	"l2_tgp: mov $0x1234, %ax\n mov %ax, %ds\n"
	"l2_tiret: pushfl\n orl $0x4000, (%esp)\n popfl\n iret\n"
	".code64\n"
	"l2_rsm: rsm\n"
	"l2_lmsw0: smsw %ax\n lmsw %ax\n vmmcall\n");
void l2_tjmp(void), l2_tcall(void), l2_tint(void), l2_tgp(void), l2_tiret(void);
void l2_rsm(void), l2_lmsw0(void);

static uint64_t tss_desc(const void *base, unsigned type)
{
	uint64_t b = (uint64_t)(ureg)base;
	return 0x67 | (b & 0xffffff) << 16 | (uint64_t)(0x80 | type) << 40 | (b >> 24 & 0xff) << 56;
}

static void vmcb_init32(uint8_t *v, void (*rip)(void))
{
	vmcb_init(v, rip);
	vmcb_seg(v, V_CS, 0x08, 0xc9b, 0xffffffff, 0);
	vmcb_seg(v, V_DS, 0x10, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_ES, 0x10, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_SS, 0x10, 0xc93, 0xffffffff, 0);
	vmcb_seg(v, V_GDTR, 0, 0, sizeof(l2_gdt) - 1, (ureg)l2_gdt);
	vmcb_seg(v, V_IDTR, 0, 0, sizeof(l2_idt) - 1, (ureg)l2_idt);
	VMCB64(v, V_CR0) = 0x11; /* PE, ET: no paging */
	VMCB64(v, V_CR4) = 0;
	VMCB64(v, V_EFER) = EFER_SVME;
	VMCB32(v, V_ICPT_MISC1) = I1_TASKSW;
}

static void check_tasksw(const char *what, ureg sel, uint64_t info2, uint64_t intinfo)
{
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_TASKSW, "%s: task-switch exit (%lx)", what, (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == sel, "%s: EXITINFO1 %lx", what,
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check(VMCB64(vmcb, V_EXITINFO2) == info2, "%s: EXITINFO2 %lx", what,
	      (unsigned long)VMCB64(vmcb, V_EXITINFO2));
	check(VMCB64(vmcb, V_EXITINTINFO) == intinfo, "%s: EXITINTINFO %lx", what,
	      (unsigned long)VMCB64(vmcb, V_EXITINTINFO));
}

static void test_task_switch(void)
{
	l2_gdt[1] = 0x00cf9b000000ffffull;
	l2_gdt[2] = 0x00cf93000000ffffull;
	l2_gdt[3] = tss_desc(&tss_avail, 0x9);
	l2_gdt[4] = tss_desc(&tss_cur, 0xb);
	l2_gdt[5] = tss_desc(&tss_back, 0xb);
	tss_cur.link = 0x28;
	l2_idt[0x50] = 0x18ull << 16 | 0x85ull << 40; /* task gate to 18h */
	l2_idt[13] = 0x18ull << 16 | 0x85ull << 40;

	vmcb_init32(vmcb, l2_tjmp);
	check_tasksw("far JMP", 0x18, 1ull << 38, 0);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_tjmp, "far JMP: RIP at the JMP");
	vmcb_init32(vmcb, l2_tcall);
	check_tasksw("far CALL", 0x18, 0, 0);
	vmcb_init32(vmcb, l2_tint);
	check_tasksw("INT 50h (task gate)", 0x18, 0, 1ull << 31 | 4 << 8 | 0x50);
	vmcb_init32(vmcb, l2_tgp);
	check_tasksw("#GP (task gate)", 0x18, 1ull << 44 | 0x1234,
		     0x1234ull << 32 | 1ull << 31 | 1 << 11 | 3 << 8 | 13);

	/* INTn intercept first. */
	vmcb_init32(vmcb, l2_tint);
	VMCB32(vmcb, V_ICPT_MISC1) |= I1_INTN;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_SWINT, "INT 50h with the INTn intercept: exit %lx, not a task switch",
	      (unsigned long)e);

	/* IRET with NT: TR (loaded by VMLOAD) is the busy 32-bit TSS at 20h,
	 * whose back link is 28h. */
	__asm__ volatile("vmsave" ::"a"((ureg)vm_orig) : "memory");
	for (unsigned i = 0; i < 4096; i++)
		vm_l2[i] = vm_orig[i];
	vmcb_seg(vm_l2, V_TR, 0x20, 0x8b, 0x67, (ureg)&tss_cur);
	__asm__ volatile("vmload" ::"a"((ureg)vm_l2) : "memory");
	vmcb_init32(vmcb, l2_tiret);
	e = svm_run(vmcb);
	__asm__ volatile("vmload" ::"a"((ureg)vm_orig) : "memory");
	check(e == EXIT_TASKSW && VMCB64(vmcb, V_EXITINFO1) == 0x28 &&
		      VMCB64(vmcb, V_EXITINFO2) == 1ull << 36,
	      "IRET with NT: exit %lx, EXITINFO1 %lx, EXITINFO2 %lx", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1), (unsigned long)VMCB64(vmcb, V_EXITINFO2));
}

static void test_rsm_lmsw(void)
{
	vmcb_init(vmcb, l2_rsm);
	VMCB32(vmcb, V_ICPT_MISC1) = I1_RSM;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_RSM && VMCB64(vmcb, V_RIP) == (ureg)l2_rsm, "RSM intercept: exit %lx",
	      (unsigned long)e);
	VMCB32(vmcb, V_ICPT_MISC1) = 0;
	VMCB32(vmcb, V_ICPT_EXC) = 1u << 6;
	e = svm_run(vmcb);
	check(e == EXIT_EXC(6), "RSM outside SMM: #UD (exit %lx)", (unsigned long)e);

	vmcb_init(vmcb, l2_lmsw0);
	VMCB32(vmcb, V_ICPT_MISC1) = 1u << 5; /* selective CR0 write */
	e = svm_run(vmcb);
	check(e == EXIT_CR0_SEL, "LMSW writing CR0's own bits: selective CR0 exit (%lx)",
	      (unsigned long)e);
}

static volatile ureg db_ip, db_dr6;
static void db_hook(struct trap_frame *f)
{
	ureg dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	db_ip = f->ip;
	db_dr6 = dr6;
	f->flags &= ~0x100ul;
}

extern char vmrun_tf_after[];
static void test_host_tf(void)
{
	trap_set_hook(1, db_hook);
	vmcb_init(vmcb, l2_lmsw0);
	__asm__ volatile("push %%rbp; push %%rbx; clgi; pushf; orq $0x100, (%%rsp); popf\n"
			 "vmrun\n"
			 "vmrun_tf_after: stgi; pop %%rbx; pop %%rbp"
			 :
			 : "a"((ureg)vmcb)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
			   "r14", "r15", "memory", "cc");
	trap_set_hook(1, 0);
	check(VMCB64(vmcb, V_EXITCODE) == EXIT_VMMCALL, "host TF: the guest ran (exit %lx)",
	      (unsigned long)VMCB64(vmcb, V_EXITCODE));
	check(db_ip == (ureg)vmrun_tf_after && (db_dr6 & 0x4000),
	      "host TF: #DB after #VMEXIT at the instruction after VMRUN (%lx, DR6 %lx)",
	      (unsigned long)db_ip, (unsigned long)db_dr6);
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_task");
	}
	test_task_switch();
	test_rsm_lmsw();
	test_host_tf();
	return report("g64_svm_task");
}
