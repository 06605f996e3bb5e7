/*
 * g32_gates — privilege transitions in 32-bit protected mode (SDM Vol. 3
 * §5.8, §6.12): ring 3 entry via RETF, a 32-bit call gate from ring 3 with a
 * stack switch to TSS.SS0:ESP0 and a 2-dword parameter copy, RETF imm16 back
 * (data segments with DPL < CPL are nulled), call-gate DPL checks,
 * conforming code (CPL unchanged), INT n from ring 3 through a DPL-3 trap
 * gate and IRET back, and SYSENTER/SYSEXIT with their fixed selectors.
 */
#include "trap.h"

#define K_CS     0x60 /* SYSENTER_CS: CS = 0x60, SS = 0x68, SYSEXIT: 0x73 / 0x7b */
#define K_SS     0x68
#define U_CS     0x70
#define U_SS     0x78
#define CALLGATE 0x80
#define CONF_CS  0x88

volatile uint32_t r[32];
enum {
	U_ESP0,
	CG_ESP,
	CG_SS,
	CG_F0,
	CG_F1,
	CG_F2,
	CG_F3,
	CG_F4,
	CG_F5,
	U_ESP1,
	U_DS,
	U_CS2,
	CONF_CSV,
	T_SS,
	T_FLAGS,
	T_FRAME,
	U_AFTER,
	SE_CS,
	SE_SS,
	SE_ESP,
	SE_FLAGS,
	SX_CS,
	SX_SS,
	SX_ESP,
	U_SS2
};

__asm__(".text\n"
	/* ring 3 via RETF: push SS, ESP, CS, EIP; lret */
	".globl enter_retf, u_retf\n"
	"enter_retf: mov $0x2b, %eax\n mov %ax, %ds\n mov %ax, %es\n"
	" push $0x2b\n push user_sp\n push $0x23\n push $u_retf\n lret\n"
	"u_retf: mov %cs, r+4*11\n mov %ss, r+4*24\n int $0x7f\n"
	/* call gate with two parameters */
	".globl u_callgate, k_callgate, u_callgate_ret\n"
	"u_callgate: push $0x1111\n push $0x2222\n mov %esp, r+4*0\n lcall $0x83, $0\n"
	"u_callgate_ret: mov %ds, %eax\n mov $0x2b, %edx\n mov %dx, %ds\n mov %eax, r+4*10\n"
	" mov %esp, r+4*9\n mov %cs, r+4*11\n int $0x7f\n"
	"k_callgate: mov %esp, r+4*1\n mov %ss, r+4*2\n"
	" mov 0(%esp), %eax\n mov %eax, r+4*3\n mov 4(%esp), %eax\n mov %eax, r+4*4\n"
	" mov 8(%esp), %eax\n mov %eax, r+4*5\n mov 12(%esp), %eax\n mov %eax, r+4*6\n"
	" mov 16(%esp), %eax\n mov %eax, r+4*7\n mov 20(%esp), %eax\n mov %eax, r+4*8\n"
	" mov $0x10, %eax\n mov %ax, %ds\n lret $8\n"
	/* conforming code: far call at CPL 3, CS.RPL stays 3 */
	".globl u_conf, k_conf\n"
	"u_conf: lcall $0x8b, $k_conf\n mov %cs, r+4*11\n int $0x7f\n"
	"k_conf: mov %cs, r+4*12\n lret\n"
	/* far call from CPL 3 straight into DPL 0 non-conforming code */
	".globl u_call0, u_call0_ip\n"
	"u_call0_ip: lcall $0x08, $k_conf\n"
	"u_call0 = u_call0_ip\n"
	/* INT from ring 3 through a DPL 3 trap gate, IRET back */
	".globl u_trapgate\n"
	"u_trapgate: mov %esp, r+4*0\n int $0x81\n mov %cs, r+4*11\n mov %esp, r+4*16\n"
	" int $0x7f\n"
	/* SYSENTER / SYSEXIT */
	".globl u_sysenter, u_sysenter_ret, k_sysenter\n"
	"u_sysenter: mov %esp, %ecx\n mov $u_sysenter_ret, %edx\n sysenter\n"
	"u_sysenter_ret: mov %cs, r+4*21\n mov %ss, r+4*22\n mov %esp, r+4*23\n int $0x7f\n"
	"k_sysenter: mov %cs, r+4*17\n mov %ss, r+4*18\n mov %esp, r+4*19\n pushf\n"
	" pop r+4*20\n sysexit\n");

void enter_retf(void), u_callgate(void), k_callgate(void), u_conf(void), k_conf(void),
	u_call0(void), u_trapgate(void), u_sysenter(void), k_sysenter(void);
extern char u_retf[], u_callgate_ret[], u_call0_ip[], u_sysenter_ret[];
uint32_t user_sp;

static void trapgate_hook(struct trap_frame *f)
{
	uint16_t ss;
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	r[T_SS] = ss;
	r[T_FLAGS] = read_flags();
	r[T_FRAME] = trap.frame;
	r[CG_F0] = f->ip;
	r[CG_F1] = f->cs;
	r[CG_F2] = f->flags;
	r[CG_F3] = f->sp;
	r[CG_F4] = f->ss;
}

int guest_main(void)
{
	trap_init();
	pic_mask_all();
	gdt_set(K_CS, 0, 0xfffff, 0x9b, 0xc);
	gdt_set(K_SS, 0, 0xfffff, 0x93, 0xc);
	gdt_set(U_CS, 0, 0xfffff, 0xfb, 0xc);
	gdt_set(U_SS, 0, 0xfffff, 0xf3, 0xc);
	gdt_set(CONF_CS, 0, 0xfffff, 0x9f, 0xc);
	long v;

	/* RETF to ring 3 */
	user_sp = (uint32_t)user_stack_top - 16;
	v = trap_run(enter_retf);
	check(v == VEC_USER_EXIT && r[U_CS2] == SEL_UCODE32 && r[U_SS2] == SEL_UDATA,
	      "retf to ring 3: vec %d cs %x ss %x", (int)v, r[U_CS2], r[U_SS2]);
	check(trap.sp == user_sp && trap.frame == (ureg)kstack_top - 20,
	      "int 0x7f from ring 3: pushed ESP %x, frame at %x", (unsigned)trap.sp,
	      (unsigned)trap.frame);

	/* call gate, 2 parameters (SDM §5.8.5/5.8.6) */
	gdt_set_callgate(CALLGATE, (ureg)k_callgate, SEL_CODE32, 3, 2);
	v = trap_run_user(u_callgate, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT, "call gate round trip: vec %d", (int)v);
	check(r[CG_ESP] == (ureg)kstack_top - 24 && r[CG_SS] == SEL_DATA,
	      "call gate: new SS:ESP %x:%x (want 10:%x)", r[CG_SS], r[CG_ESP],
	      (unsigned)(ureg)kstack_top - 24);
	check(r[CG_F0] == (ureg)u_callgate_ret && r[CG_F1] == SEL_UCODE32 && r[CG_F2] == 0x2222 &&
		      r[CG_F3] == 0x1111 && r[CG_F4] == r[U_ESP0] && r[CG_F5] == SEL_UDATA,
	      "call gate frame: eip %x cs %x p %x %x esp %x ss %x", r[CG_F0], r[CG_F1], r[CG_F2],
	      r[CG_F3], r[CG_F4], r[CG_F5]);
	check(r[U_ESP1] == r[U_ESP0] + 8, "retf 8 released the caller's parameters (%x vs %x)",
	      r[U_ESP1], r[U_ESP0]);
	check(r[U_DS] == 0, "retf to ring 3 nulled DS (DPL 0): %x", r[U_DS]);
	check(r[U_CS2] == SEL_UCODE32, "back in ring 3 (cs %x)", r[U_CS2]);
	gdt_set_callgate(CALLGATE, (ureg)k_callgate, SEL_CODE32, 0, 2);
	v = trap_run_user(u_callgate, SEL_UCODE32, SEL_UDATA);
	check(v == 13 && trap.err == CALLGATE, "call gate DPL 0 from CPL 3: vec %d err %x", (int)v,
	      (unsigned)trap.err);

	/* conforming */
	r[CONF_CSV] = 0;
	v = trap_run_user(u_conf, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT && r[CONF_CSV] == (CONF_CS | 3) && r[U_CS2] == SEL_UCODE32,
	      "conforming call: vec %d cs inside %x after %x", (int)v, r[CONF_CSV], r[U_CS2]);
	v = trap_run_user(u_call0, SEL_UCODE32, SEL_UDATA);
	check(v == 13 && trap.err == SEL_CODE32 && trap.ip == (ureg)u_call0_ip,
	      "far call CPL3 -> DPL0 code: vec %d err %x", (int)v, (unsigned)trap.err);

	/* trap gate from ring 3 */
	idt_set(0x81, isr_table[0x81], SEL_CODE32, GATE_TRAP, 3, 0);
	trap_set_hook(0x81, trapgate_hook);
	trap_user_flags = 0x200;
	v = trap_run_user(u_trapgate, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT && r[U_AFTER] == r[U_ESP0] && r[U_CS2] == SEL_UCODE32,
	      "trap gate + iret to ring 3: vec %d esp %x/%x", (int)v, r[U_AFTER], r[U_ESP0]);
	check(r[T_SS] == SEL_DATA && (r[T_FLAGS] & 0x200) && r[T_FRAME] == (ureg)kstack_top - 20,
	      "trap gate: ss %x flags %x frame %x", r[T_SS], r[T_FLAGS], r[T_FRAME]);
	check(r[CG_F1] == SEL_UCODE32 && (r[CG_F2] & 0x200) && r[CG_F3] == r[U_ESP0] &&
		      r[CG_F4] == SEL_UDATA,
	      "trap gate frame: cs %x flags %x esp %x ss %x", r[CG_F1], r[CG_F2], r[CG_F3],
	      r[CG_F4]);
	idt_set(0x81, isr_table[0x81], SEL_CODE32, GATE_INT, 3, 0);
	v = trap_run_user(u_trapgate, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT && !(r[T_FLAGS] & 0x200), "interrupt gate clears IF (%x)",
	      r[T_FLAGS]);
	trap_user_flags = 0;
	trap_set_hook(0x81, 0);
	idt_reset(0x81);

	/* SYSENTER / SYSEXIT (SDM Vol. 2): flat selectors from IA32_SYSENTER_CS */
	uint32_t id[4];
	cpuid2(1, 0, id);
	if (id[3] >> 11 & 1) {
		wrmsr(0x174, K_CS);
		wrmsr(0x175, (ureg)kstack_top);
		wrmsr(0x176, (ureg)k_sysenter);
		trap_user_flags = 0x200;
		v = trap_run_user(u_sysenter, SEL_UCODE32, SEL_UDATA);
		trap_user_flags = 0;
		check(v == VEC_USER_EXIT, "sysenter round trip: vec %d", (int)v);
		check(r[SE_CS] == K_CS && r[SE_SS] == K_SS && r[SE_ESP] == (ureg)kstack_top &&
			      !(r[SE_FLAGS] & 0x200),
		      "sysenter: cs %x ss %x esp %x flags %x", r[SE_CS], r[SE_SS], r[SE_ESP],
		      r[SE_FLAGS]);
		check(r[SX_CS] == (U_CS | 3) && r[SX_SS] == (U_SS | 3) &&
			      r[SX_ESP] == (ureg)user_stack_top - 8,
		      "sysexit: cs %x ss %x esp %x", r[SX_CS], r[SX_SS], r[SX_ESP]);
	}
	return report("g32_gates");
}
