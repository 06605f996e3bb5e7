/*
 * g32_task — hardware task switching (SDM Vol. 3 chapter 7): JMP and CALL
 * to a TSS descriptor, IRET with EFLAGS.NT through the back-link, busy bits
 * in the TSS descriptors, CR0.TS set by every switch, the state image the
 * CPU writes into the outgoing TSS (EIP after the JMP/CALL, or the faulting
 * EIP), task gates in the IDT for INT n and for #GP (error code pushed on
 * the new task's stack), and #GP for switches to busy tasks.
 */
#include "trap.h"

#define TSS_B 0x60
#define TSS_C 0x68

static struct tss32 tss_b, tss_c;
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));

volatile uint32_t r[16], b_mode;
enum {
	B_TR,
	B_FLAGS,
	B_RUNS,
	C_TR,
	C_FLAGS,
	C_ERR,
	C_SAVED_EIP,
	C_RUNS,
	M_EAX,
	M_ESI
};

__asm__(".text\n"
	/* task B: record TR and EFLAGS, then leave by JMP (b_mode 0) or IRET */
	".globl task_b\n"
	"task_b: str %ax\n movzwl %ax, %eax\n mov %eax, r+4*0\n pushf\n pop r+4*1\n"
	" incl r+4*2\n cmpl $0, b_mode\n jne 1f\n ljmp $0x38, $0\n jmp task_b\n"
	"1: iret\n jmp task_b\n"
	/* task C: entered through a task gate; for #GP it pops the error code
	 * and moves the interrupted task's saved EIP past the faulting insn */
	".globl task_c\n"
	"task_c: str %ax\n movzwl %ax, %eax\n mov %eax, r+4*3\n pushf\n pop r+4*4\n"
	" incl r+4*7\n cmp kstack_c_top, %esp\n je 2f\n pop r+4*5\n"
	" mov tss+32, %eax\n mov %eax, r+4*6\n movl $t_gp_recover, tss+32\n"
	"2: iret\n jmp task_c\n"
	".globl t_jmp, t_jmp_after\n"
	"t_jmp: push %ebx\n push %esi\n mov $0x1234, %eax\n mov $0x5678, %esi\n ljmp $0x60, $0\n"
	"t_jmp_after: mov %eax, r+4*8\n mov %esi, r+4*9\n pop %esi\n pop %ebx\n ret\n"
	".globl t_call, t_call_after\n"
	"t_call: lcall $0x60, $0\nt_call_after: ret\n"
	".globl t_int82\n"
	"t_int82: int $0x82\n ret\n"
	".globl t_gp, t_gp_ip, t_gp_recover\n"
	"t_gp: mov $0x200, %eax\nt_gp_ip: mov %ax, %ds\n ud2\n"
	"t_gp_recover: ret\n"
	".globl t_jself, t_jself_ip\n"
	"t_jself_ip: ljmp $0x38, $0\n ret\n"
	"t_jself = t_jself_ip\n"
	".globl t_j70, t_j70_ip\n"
	"t_j70_ip: ljmp $0x70, $0\n ret\n"
	"t_j70 = t_j70_ip\n");
void t_j70(void);
extern char t_j70_ip[];
void task_b(void), task_c(void), t_jmp(void), t_call(void), t_int82(void), t_gp(void),
	t_jself(void);
extern char t_jmp_after[], t_call_after[], t_gp_ip[], t_jself_ip[];
uint8_t *kstack_c_top = stack_c + sizeof(stack_c);

static void init_task(struct tss32 *t, unsigned sel, void (*eip)(void), uint8_t *stack_top)
{
	uint8_t *p = (uint8_t *)t;
	for (unsigned i = 0; i < sizeof(*t); i++)
		p[i] = 0;
	t->eip = (ureg)eip;
	t->esp = (ureg)stack_top;
	t->eflags = 2;
	t->cs = SEL_CODE32;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA;
	t->cr3 = read_cr3();
	t->iomap = sizeof(*t);
	gdt_set(sel, (ureg)t, sizeof(*t) - 1, 0x89, 0);
}

static unsigned desc_type(unsigned sel)
{
	return (gdt_big[sel >> 3] >> 40) & 0xf;
}

static unsigned str(void)
{
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	return tr;
}

int guest_main(void)
{
	trap_init();
	long v;
	check(str() == SEL_TSS && desc_type(SEL_TSS) == 0xb, "TR = 0x38, busy after LTR (type %x)",
	      desc_type(SEL_TSS));

	/* JMP to a TSS: no back-link, no NT, the old task is no longer busy */
	init_task(&tss_b, TSS_B, task_b, stack_b + sizeof(stack_b));
	tss_b.link = 0x5555;
	b_mode = 0;
	v = trap_run(t_jmp);
	check(v == -1 && r[B_RUNS] == 1 && r[B_TR] == TSS_B, "JMP TSS: ran task B (tr %x)",
	      r[B_TR]);
	check(!(r[B_FLAGS] & 0x4000), "JMP TSS: NT clear in the new task (%x)", r[B_FLAGS]);
	check(tss_b.link == 0x5555, "JMP TSS: back-link not written (%x)", tss_b.link);
	check(tss.eip == (ureg)t_jmp_after, "outgoing TSS EIP = after the JMP (%x want %x)",
	      tss.eip, (unsigned)(ureg)t_jmp_after);
	check(r[M_EAX] == 0x1234 && r[M_ESI] == 0x5678, "registers came back from the TSS image");
	check(tss.eax == 0x1234 && tss.esi == 0x5678 && tss.cs == SEL_CODE32 && tss.ss == SEL_DATA,
	      "outgoing TSS image: eax %x esi %x cs %x ss %x", tss.eax, tss.esi, tss.cs, tss.ss);
	check(tss_b.eip != (ureg)task_b, "task B's own state was saved when it jumped back");
	check(str() == SEL_TSS && desc_type(SEL_TSS) == 0xb && desc_type(TSS_B) == 0x9,
	      "after JMP back: TR %x, types %x/%x", str(), desc_type(SEL_TSS), desc_type(TSS_B));
	check(read_cr0() & 8, "task switch set CR0.TS");
	__asm__ volatile("clts");

	/* CALL: back-link, NT, both busy; IRET returns and clears B's busy */
	init_task(&tss_b, TSS_B, task_b, stack_b + sizeof(stack_b));
	b_mode = 1;
	r[B_RUNS] = 0;
	v = trap_run(t_call);
	check(v == -1 && r[B_RUNS] == 1 && r[B_TR] == TSS_B, "CALL TSS: ran B");
	check(r[B_FLAGS] & 0x4000, "CALL TSS: NT set in B (%x)", r[B_FLAGS]);
	check(tss_b.link == SEL_TSS, "CALL TSS: back-link = %x", tss_b.link);
	check(tss.eip == (ureg)t_call_after, "outgoing EIP after the CALL (%x)", tss.eip);
	check(!(read_flags() & 0x4000), "NT clear again in the caller");
	check(desc_type(TSS_B) == 0x9 && desc_type(SEL_TSS) == 0xb, "IRET cleared B busy (%x)",
	      desc_type(TSS_B));
	__asm__ volatile("clts");

	/* a busy TSS cannot be jumped to: #GP(selector) */
	v = trap_run(t_jself);
	check(v == 13 && trap.err == SEL_TSS && trap.ip == (ureg)t_jself_ip,
	      "JMP to the busy current TSS: vec %d err %x", (int)v, (unsigned)trap.err);

	/* task gate for INT n */
	init_task(&tss_c, TSS_C, task_c, stack_c + sizeof(stack_c));
	idt_set(0x82, 0, TSS_C, GATE_TASK, 0, 0);
	v = trap_run(t_int82);
	check(v == -1 && r[C_RUNS] == 1 && r[C_TR] == TSS_C && (r[C_FLAGS] & 0x4000) &&
		      tss_c.link == SEL_TSS,
	      "INT through a task gate: runs %d tr %x flags %x link %x", r[C_RUNS], r[C_TR],
	      r[C_FLAGS], tss_c.link);
	__asm__ volatile("clts");

	/* #GP through a task gate: error code on the new task's stack, the old
	 * task's image has the faulting EIP */
	init_task(&tss_c, TSS_C, task_c, stack_c + sizeof(stack_c));
	idt_set(13, 0, TSS_C, GATE_TASK, 0, 0);
	r[C_RUNS] = 0;
	v = trap_run(t_gp);
	idt_reset(13);
	check(v == -1 && r[C_RUNS] == 1, "#GP via task gate handled (vec %d runs %d)", (int)v,
	      r[C_RUNS]);
	check(r[C_ERR] == 0x200, "#GP error code on the task's stack: %x", r[C_ERR]);
	check(r[C_SAVED_EIP] == (ureg)t_gp_ip, "saved EIP = faulting insn (%x want %x)",
	      r[C_SAVED_EIP], (unsigned)(ureg)t_gp_ip);
	__asm__ volatile("clts");
	/* CALL to a busy task (mark B busy by hand) */
	gdt_big[TSS_B >> 3] |= 2ull << 40;
	b_mode = 1;
	v = trap_run(t_call);
	check(v == 13 && trap.err == TSS_B, "CALL to a busy TSS: vec %d err %x", (int)v,
	      (unsigned)trap.err);
	/* TSS descriptor checks on JMP (SDM §7.3, Table 7-1) */
	init_task(&tss_b, TSS_B, task_b, stack_b + sizeof(stack_b));
	gdt_set(0x70, (ureg)&tss_b, 0x20, 0x89, 0); /* limit < 0x67 */
	v = trap_run(t_j70);
	check(v == 10 && trap.err == 0x70 && trap.ip == (ureg)t_j70_ip,
	      "JMP to a TSS with limit 0x20 -> #TS(sel): vec %d err %x", (int)v,
	      (unsigned)trap.err);
	gdt_set(0x70, (ureg)&tss_b, sizeof(tss_b) - 1, 0x09, 0); /* not present */
	v = trap_run(t_j70);
	check(v == 11 && trap.err == 0x70, "JMP to a not-present TSS -> #NP(sel): vec %d err %x",
	      (int)v, (unsigned)trap.err);
	check(str() == SEL_TSS && desc_type(SEL_TSS) == 0xb, "failed switches left TR alone");
	return report("g32_task");
}
