/*
 * g64_gates — privilege transitions in IA-32e mode: ring 3 entry via IRET
 * and RETF, INT n from ring 3 through a DPL-3 trap gate (stack switch to
 * TSS.RSP0, SS := null, IF kept) and back with IRETQ, IST stacks, a 64-bit
 * call gate from ring 3 (stack switch, 8-byte frame, RETF back), conforming
 * code segments (CPL unchanged), SYSCALL/SYSRET and SYSENTER/SYSEXIT with
 * their exact register effects. SDM Vol. 3 §5.8, §6.14, Vol. 2 SYSCALL.
 */
#include "trap.h"

/* Extra descriptors, laid out as SYSCALL/SYSRET and SYSENTER/SYSEXIT need. */
#define K_CS     0x60 /* kernel code64; SS = 0x68 */
#define K_SS     0x68
#define U_CS32   0x70 /* SYSRET/SYSEXIT 32-bit: CS = base+16 */
#define U_SS     0x78 /* SYSRET: SS = STAR[63:48]+8 */
#define U_CS64   0x80 /* SYSRET 64: CS = STAR[63:48]+16; SYSEXIT 64: CS = +32 */
#define U_SS2    0x88 /* SYSEXIT 64: SS = +40 */
#define CALLGATE 0x90 /* 16 bytes */
#define CONF_CS  0xa0 /* conforming code64, DPL 0 */

#define FMASK 0x4700ul /* NT, DF, IF, TF */

/* All results land in r[]: the ring-3 code cannot call check(). */
volatile uint64_t r[32];
enum {
	K_RCX,
	K_R11,
	K_FLAGS,
	K_CS_,
	K_SS_,
	K_RSP,
	U_RCX,
	U_R11,
	U_FLAGS,
	U_CS_,
	U_SS_,
	U_FLAGS0,
	U_RSP0,
	CG_RSP,
	CG_SS,
	CG_F0,
	CG_F1,
	CG_F2,
	CG_F3,
	CONF_CSV,
	U_CS2,
	T_FLAGS,
	T_SS,
	U_AFTER,
	SE_CS,
	SE_SS,
	SE_RSP,
	SE_FLAGS,
	SX_CS,
	SX_SS,
	SX_RSP,
	SX_FLAGS
};

__asm__(".text\n"
	/* SYSCALL from ring 3 and back */
	".globl u_syscall, u_syscall_ret, k_syscall\n"
	"u_syscall: mov %rsp, r+8*12(%rip)\n std\n stc\n pushf\n pop r+8*11(%rip)\n"
	" mov $0x1111, %rcx\n mov $0x2222, %r11\n syscall\n"
	"u_syscall_ret: mov %rcx, r+8*6(%rip)\n mov %r11, r+8*7(%rip)\n pushf\n"
	" pop r+8*8(%rip)\n cld\n mov %cs, r+8*9(%rip)\n mov %ss, r+8*10(%rip)\n int $0x7f\n"
	"k_syscall: mov %rcx, r+8*0(%rip)\n mov %r11, r+8*1(%rip)\n pushf\n pop r+8*2(%rip)\n"
	" mov %cs, r+8*3(%rip)\n mov %ss, r+8*4(%rip)\n mov %rsp, r+8*5(%rip)\n sysretq\n"
	/* call gate from ring 3 */
	".globl u_callgate, u_callgate_ret, k_callgate\n"
	"u_callgate: mov %rsp, r+8*12(%rip)\n lcall *cg_ptr(%rip)\n"
	"u_callgate_ret: mov %cs, r+8*20(%rip)\n int $0x7f\n"
	"k_callgate: mov %rsp, r+8*13(%rip)\n mov %ss, r+8*14(%rip)\n"
	" mov 0(%rsp), %rax\n mov %rax, r+8*15(%rip)\n mov 8(%rsp), %rax\n mov %rax, r+8*16(%rip)\n"
	" mov 16(%rsp), %rax\n mov %rax, r+8*17(%rip)\n"
	" mov 24(%rsp), %rax\n mov %rax, r+8*18(%rip)\n"
	" lretq\n"
	/* conforming: jump in at CPL 3, jump back out to a DPL 3 segment */
	".globl u_conf, u_conf_back, k_conf\n"
	"u_conf: ljmp *conf_ptr(%rip)\n"
	"k_conf: mov %cs, r+8*19(%rip)\n ljmp *back_ptr(%rip)\n"
	"u_conf_back: mov %cs, r+8*20(%rip)\n int $0x7f\n"
	/* direct far jump to DPL 0 non-conforming code from ring 3 */
	".globl u_ljmp0, u_ljmp0_ip\n"
	"u_ljmp0_ip: ljmp *k0_ptr(%rip)\n"
	"u_ljmp0 = u_ljmp0_ip\n"
	/* INT 0x81 through a DPL 3 trap gate, resumed by IRETQ */
	".globl u_trapgate\n"
	"u_trapgate: mov %rsp, r+8*12(%rip)\n int $0x81\n mov %cs, r+8*20(%rip)\n"
	" mov %rsp, r+8*23(%rip)\n int $0x7f\n"
	/* SYSENTER / SYSEXIT (Intel) */
	".globl u_sysenter, u_sysenter_ret, k_sysenter\n"
	"u_sysenter: mov %rsp, %rcx\n lea u_sysenter_ret(%rip), %rdx\n sysenter\n"
	"u_sysenter_ret: mov %cs, r+8*28(%rip)\n mov %ss, r+8*29(%rip)\n mov %rsp, r+8*30(%rip)\n"
	" pushf\n pop r+8*31(%rip)\n int $0x7f\n"
	"k_sysenter: mov %cs, r+8*24(%rip)\n mov %ss, r+8*25(%rip)\n mov %rsp, r+8*26(%rip)\n"
	" pushf\n pop r+8*27(%rip)\n sysexitq\n"
	/* IRETQ with the frame in ir_frame[] (rip, cs, rflags, rsp, ss) */
	".globl do_iretq, do_iretq_ip\n"
	"do_iretq: push ir_frame+32(%rip)\n push ir_frame+24(%rip)\n push ir_frame+16(%rip)\n"
	" push ir_frame+8(%rip)\n push ir_frame(%rip)\n"
	"do_iretq_ip: iretq\n"
	/* SYSRETQ with a non-canonical RCX, from CPL 0 */
	".globl do_sysret, do_sysret_ip\n"
	"do_sysret: mov $0x0000800000000000, %rcx\n mov $2, %r11\n"
	"do_sysret_ip: sysretq\n");

void do_iretq(void), do_sysret(void), user_exit(void);
extern char do_iretq_ip[], do_sysret_ip[];
uint64_t ir_frame[5];

static int iret_sdm, iret_alt_vec = -2;

static void iret_expect(uint64_t rip, uint64_t cs, uint64_t ss, long vec, uint64_t err,
			const char *what)
{
	ir_frame[0] = rip;
	ir_frame[1] = cs;
	ir_frame[2] = 2;
	ir_frame[3] = (ureg)user_stack_top - 64;
	ir_frame[4] = ss;
	long v = trap_run(do_iretq);
	int ok = (v == vec || v == iret_alt_vec) && trap.err == err &&
		 trap.ip == (ureg)do_iretq_ip && trap.cs == SEL_CODE64;
	if (iret_sdm)
		check_sdm(ok,
			  "%s: vec %d err %lx rip %lx cs %lx (want vec %d err %lx at the iretq)",
			  what, (int)v, trap.err, trap.ip, trap.cs, (int)vec, err);
	else
		check(ok, "%s: vec %d err %lx rip %lx cs %lx (want vec %d err %lx at the iretq)",
		      what, (int)v, trap.err, trap.ip, trap.cs, (int)vec, err);
	iret_sdm = 0;
	iret_alt_vec = -2;
}

void u_syscall(void), u_callgate(void), u_conf(void), u_ljmp0(void), u_trapgate(void),
	u_sysenter(void), k_syscall(void), k_callgate(void), k_conf(void), k_sysenter(void);
extern char u_syscall_ret[], u_callgate_ret[], u_conf_back[], u_ljmp0_ip[], u_sysenter_ret[];

struct __attribute__((packed)) farp {
	uint32_t off;
	uint16_t sel;
};
struct farp cg_ptr, conf_ptr, back_ptr, k0_ptr;

static void trapgate_hook(struct trap_frame *f)
{
	uint16_t ss;
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	r[T_SS] = ss;
	r[T_FLAGS] = read_flags();
	r[CG_F0] = f->ip;
	r[CG_F1] = f->cs;
	r[CG_F2] = f->sp;
	r[CG_F3] = f->ss;
	r[CG_RSP] = trap.frame;
}

static void int50(void)
{
	__asm__ volatile("int $0x50");
}

static void u_int50(void)
{
	__asm__ volatile("int $0x50");
}

int guest_main(void)
{
	trap_init();
	pic_mask_all();
	gdt_set(K_CS, 0, 0xfffff, 0x9b, 0xa);
	gdt_set(K_SS, 0, 0xfffff, 0x93, 0xc);
	gdt_set(U_CS32, 0, 0xfffff, 0xfb, 0xc);
	gdt_set(U_SS, 0, 0xfffff, 0xf3, 0xc);
	gdt_set(U_CS64, 0, 0xfffff, 0xfb, 0xa);
	gdt_set(U_SS2, 0, 0xfffff, 0xf3, 0xc);
	gdt_set(CONF_CS, 0, 0xfffff, 0x9f, 0xa);
	long v;
	uint32_t id[4];
	cpuid2(0, 0, id);
	int intel = id[1] == 0x756e6547; /* "Genu" */

	/* --- SYSCALL / SYSRET (SDM Vol. 2 SYSCALL, SYSRET) --- */
	wrmsr(0xc0000080, rdmsr(0xc0000080) | 1);                         /* EFER.SCE */
	wrmsr(0xc0000081, (uint64_t)U_CS32 << 48 | (uint64_t)K_CS << 32); /* STAR */
	wrmsr(0xc0000082, (ureg)k_syscall);                               /* LSTAR */
	wrmsr(0xc0000084, FMASK);
	trap_user_flags = 0x200; /* IF=1 in ring 3 so FMASK visibly clears it */
	v = trap_run_user(u_syscall, SEL_UCODE64, SEL_UDATA);
	trap_user_flags = 0;
	check(v == VEC_USER_EXIT, "syscall round trip ended in vec %d", (int)v);
	uint64_t f0 = r[U_FLAGS0];
	check((f0 & 0x601) == 0x601, "user flags before syscall have CF, DF, IF (%lx)", f0);
	check(r[K_RCX] == (ureg)u_syscall_ret, "syscall: RCX = return RIP (%lx)", r[K_RCX]);
	check(r[K_R11] == f0, "syscall: R11 = RFLAGS (%lx want %lx)", r[K_R11], f0);
	/* QEMU 7.2 TCG loses the arithmetic flags (CF, PF, ...) across SYSCALL */
	check_sdm(r[K_FLAGS] == (f0 & ~FMASK), "syscall: RFLAGS &= ~FMASK (%lx want %lx)",
		  r[K_FLAGS], f0 & ~FMASK);
	check(r[K_CS_] == K_CS && r[K_SS_] == K_SS, "syscall: CS %lx SS %lx", r[K_CS_], r[K_SS_]);
	check(r[K_RSP] == r[U_RSP0], "syscall leaves RSP alone (%lx vs %lx)", r[K_RSP], r[U_RSP0]);
	check(r[U_RCX] == (ureg)u_syscall_ret && r[U_R11] == f0, "sysret keeps RCX %lx R11 %lx",
	      r[U_RCX], r[U_R11]);
	check(r[U_FLAGS] == ((f0 & 0x3c7fd7) | 2), "sysret: RFLAGS = R11 & 0x3c7fd7 | 2 (%lx)",
	      r[U_FLAGS]);
	check(r[U_CS_] == (U_CS64 | 3) && r[U_SS_] == (U_SS | 3), "sysret: CS %lx SS %lx", r[U_CS_],
	      r[U_SS_]);

	/* --- call gate: ring 3 -> ring 0 (SDM §5.8.6): new stack from RSP0, SS
	 * null, pushes SS, RSP, CS, RIP as 8-byte values --- */
	gdt_set_callgate(CALLGATE, (ureg)k_callgate, SEL_CODE64, 3, 0);
	cg_ptr.off = 0xdeadbeef; /* ignored for a gate */
	cg_ptr.sel = CALLGATE | 3;
	v = trap_run_user(u_callgate, SEL_UCODE64, SEL_UDATA);
	check(v == VEC_USER_EXIT, "call gate round trip ended in vec %d", (int)v);
	check(r[CG_RSP] == (ureg)kstack_top - 32 && r[CG_SS] == 0,
	      "call gate: RSP %lx (want %lx) SS %lx", r[CG_RSP], (ureg)kstack_top - 32, r[CG_SS]);
	check(r[CG_F0] == (ureg)u_callgate_ret && r[CG_F1] == SEL_UCODE64 &&
		      r[CG_F2] == r[U_RSP0] && r[CG_F3] == SEL_UDATA,
	      "call gate frame: %lx %lx %lx %lx", r[CG_F0], r[CG_F1], r[CG_F2], r[CG_F3]);
	check(r[U_CS2] == SEL_UCODE64, "lretq back to ring 3: CS %lx", r[U_CS2]);
	/* gate DPL 0: #GP(gate selector) from CPL 3 */
	gdt_set_callgate(CALLGATE, (ureg)k_callgate, SEL_CODE64, 0, 0);
	v = trap_run_user(u_callgate, SEL_UCODE64, SEL_UDATA);
	check(v == 13 && trap.err == CALLGATE, "call gate DPL 0 from CPL 3: vec %d err %lx", (int)v,
	      trap.err);

	/* --- conforming code: CPL stays 3, CS.RPL = 3 --- */
	conf_ptr.off = (uint32_t)(ureg)k_conf;
	conf_ptr.sel = CONF_CS | 3;
	back_ptr.off = (uint32_t)(ureg)u_conf_back;
	back_ptr.sel = SEL_UCODE64;
	r[CONF_CSV] = 0;
	v = trap_run_user(u_conf, SEL_UCODE64, SEL_UDATA);
	check(v == VEC_USER_EXIT && r[CONF_CSV] == (CONF_CS | 3) && r[U_CS2] == SEL_UCODE64,
	      "conforming: vec %d CS in it %lx back %lx", (int)v, r[CONF_CSV], r[U_CS2]);
	k0_ptr.off = (uint32_t)(ureg)k_conf;
	k0_ptr.sel = SEL_CODE64;
	v = trap_run_user(u_ljmp0, SEL_UCODE64, SEL_UDATA);
	check(v == 13 && trap.err == SEL_CODE64 && trap.ip == (ureg)u_ljmp0_ip,
	      "ljmp from CPL 3 to DPL 0 non-conforming: vec %d err %lx", (int)v, trap.err);

	/* --- INT from ring 3 through a DPL 3 trap gate, IRETQ back --- */
	idt_set(0x81, isr_table[0x81], SEL_CODE64, GATE_TRAP, 3, 0);
	trap_set_hook(0x81, trapgate_hook);
	trap_user_flags = 0x200;
	v = trap_run_user(u_trapgate, SEL_UCODE64, SEL_UDATA);
	trap_user_flags = 0;
	check(v == VEC_USER_EXIT && r[U_CS2] == SEL_UCODE64 && r[U_AFTER] == r[U_RSP0],
	      "trap gate + iretq back to ring 3: vec %d cs %lx rsp %lx/%lx", (int)v, r[U_CS2],
	      r[U_AFTER], r[U_RSP0]);
	check(r[T_SS] == 0 && (r[T_FLAGS] & 0x200), "trap gate: SS null (%lx), IF kept (%lx)",
	      r[T_SS], r[T_FLAGS]);
	check(r[CG_RSP] == (ureg)kstack_top - 40 && r[CG_F1] == SEL_UCODE64 &&
		      r[CG_F2] == r[U_RSP0] && r[CG_F3] == SEL_UDATA,
	      "trap gate frame at %lx: cs %lx rsp %lx ss %lx", r[CG_RSP], r[CG_F1], r[CG_F2],
	      r[CG_F3]);
	/* the same with an interrupt gate clears IF */
	idt_set(0x81, isr_table[0x81], SEL_CODE64, GATE_INT, 3, 0);
	trap_user_flags = 0x200;
	v = trap_run_user(u_trapgate, SEL_UCODE64, SEL_UDATA);
	trap_user_flags = 0;
	check(v == VEC_USER_EXIT && !(r[T_FLAGS] & 0x200), "interrupt gate clears IF (%lx)",
	      r[T_FLAGS]);
	trap_set_hook(0x81, 0);
	idt_reset(0x81);

	/* --- IST: the gate's IST index picks the stack, even at CPL 0 --- */
	idt_set(0x50, isr_table[0x50], SEL_CODE64, GATE_INT, 3, 1);
	v = trap_run(int50);
	check(v == 0x50 && trap.frame == (ureg)ist_stack_top - 40,
	      "IST1 at CPL0: frame %lx want %lx", trap.frame, (ureg)ist_stack_top - 40);
	v = trap_run_user(u_int50, SEL_UCODE64, SEL_UDATA);
	check(v == 0x50 && trap.frame == (ureg)ist_stack_top - 40 && trap.ss == SEL_UDATA,
	      "IST1 from CPL3 beats RSP0: frame %lx", trap.frame);
	idt_reset(0x50);

	/* --- SYSENTER / SYSEXIT in 64-bit mode (Intel only; #UD on AMD) --- */
	if (intel) {
		wrmsr(0x174, K_CS);
		wrmsr(0x175, (ureg)kstack_top);
		wrmsr(0x176, (ureg)k_sysenter);
		trap_user_flags = 0x200;
		v = trap_run_user(u_sysenter, SEL_UCODE64, SEL_UDATA);
		trap_user_flags = 0;
		check(v == VEC_USER_EXIT, "sysenter round trip: vec %d", (int)v);
		check(r[SE_CS] == K_CS && r[SE_SS] == K_SS && r[SE_RSP] == (ureg)kstack_top,
		      "sysenter: CS %lx SS %lx RSP %lx", r[SE_CS], r[SE_SS], r[SE_RSP]);
		check(!(r[SE_FLAGS] & 0x200), "sysenter clears IF (%lx)", r[SE_FLAGS]);
		check(r[SX_CS] == ((K_CS + 32) | 3) && r[SX_SS] == ((K_CS + 40) | 3) &&
			      r[SX_RSP] == (ureg)user_stack_top - 16,
		      "sysexitq: CS %lx SS %lx RSP %lx", r[SX_CS], r[SX_SS], r[SX_RSP]);
	} else {
		guest_puts("g64_gates: not Intel, SYSENTER in 64-bit mode skipped\n");
	}
	/* IRETQ checks, all faulting at CPL 0 on the IRETQ (SDM Vol. 2 IRET) */
	gdt_set(0xb0, 0, 0xfffff, 0x7b, 0xa); /* ring-3 code64, not present */
	gdt_set(0xb8, 0, 0xfffff, 0x73, 0xc); /* ring-3 data, not present */
	/* SDM IRET: a non-canonical return RIP is #GP(0) before anything is
	 * loaded; QEMU 7.2 TCG completes the IRET and faults at the target */
	iret_sdm = 1;
	iret_expect(0x0000800000000000ull, SEL_UCODE64, SEL_UDATA, 13, 0,
		    "iretq to non-canonical RIP");
	iret_expect((ureg)user_exit, SEL_UCODE64, SEL_DATA, 13, SEL_DATA,
		    "iretq to CPL3 with SS.RPL 0");
	iret_expect((ureg)user_exit, SEL_CODE64 | 3, SEL_UDATA, 13, SEL_CODE64,
		    "iretq to DPL 0 code with RPL 3");
	iret_expect((ureg)user_exit, 0, SEL_UDATA, 13, 0, "iretq to null CS");
	iret_expect((ureg)user_exit, 0xb0 | 3, SEL_UDATA, 11, 0xb0, "iretq to not-present CS");
	/* not-present SS: the IRET pseudo-code and the #SS/#NP pages say #SS(sel),
	 * IRET's exception list says #NP(sel) (QEMU 7.2 TCG): accept either */
	iret_alt_vec = 11;
	iret_expect((ureg)user_exit, SEL_UCODE64, 0xb8 | 3, 12, 0xb8,
		    "iretq with not-present SS -> #SS (or #NP)");
	iret_expect((ureg)user_exit, SEL_UCODE64, 0x30 | 3, 13, 0x30, "iretq with code as SS");

	/* SYSRET to a non-canonical RCX: Intel raises #GP(0) still at CPL 0;
	 * AMD completes the SYSRET and faults in ring 3 (not tested). QEMU
	 * 7.2 TCG does not model the Intel behaviour. */
	if (intel) {
		long sv = trap_run(do_sysret);
		check_sdm(sv == 13 && trap.err == 0 && trap.ip == (ureg)do_sysret_ip &&
				  trap.cs == SEL_CODE64,
			  "Intel: sysretq to non-canonical RCX -> #GP(0) at CPL0: vec %d rip %lx "
			  "cs %lx",
			  (int)sv, trap.ip, trap.cs);
	}
	return report("g64_gates");
}
