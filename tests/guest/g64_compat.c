/*
 * g64_compat — compatibility mode inside IA-32e mode (SDM Vol. 3 §2.2,
 * §5.8, §6.14): entering a 32-bit code segment by LRETQ and leaving it by a
 * far JMP to a 64-bit segment, 32-bit semantics there (0x48 is DEC EAX, not
 * REX; PUSH moves ESP by 4), an interrupt from compatibility mode through the
 * 64-bit IDT (8-byte frame with SS:RSP) and IRETQ back, ring 3 compatibility
 * code entered by IRETQ, SYSCALL from it through IA32_CSTAR with SYSRETL
 * back on AMD (#UD on Intel), SYSENTER/SYSEXIT (32-bit form) on Intel, and
 * leaving IA-32e mode (CR0.PG=0 from compatibility mode) and re-entering it.
 */
#include "trap.h"

#define K_CS   0x60
#define K_SS   0x68
#define U_CS32 0x70
#define U_SS   0x78
#define U_CS64 0x80

volatile uint32_t r[32];
enum {
	C_DEC,
	C_PUSHD,
	C_CS,
	C_RET,
	I_CS,
	I_RSPOK,
	I_AFTER,
	U_CS,
	U_SC_RCX,
	U_SC_R11,
	U_SC_CS,
	U_SC_SS,
	K_RCX,
	K_R11,
	K_CS_,
	U_ESP0,
	U_SE_CS,
	U_SE_SS,
	U_SE_ESP,
	K_SE_CS,
	C_CS2,
	L_EFER_OFF,
	L_DEC,
	L_EFER_ON
};

__asm__(".text\n"
	".code64\n"
	".globl enter_compat\n"
	"enter_compat: push %rbx\n push %rbp\n mov %rsp, saved_rsp(%rip)\n"
	" pushq $0x08\n lea compat_code(%rip), %rax\n push %rax\n lretq\n"
	"back64: mov saved_rsp(%rip), %rsp\n pop %rbp\n pop %rbx\n ret\n"
	".code32\n"
	"compat_code: mov %cs, %eax\n mov %eax, r+4*2\n"
	" mov $5, %eax\n .byte 0x48\n mov %eax, r+4*0\n" /* dec %eax in compat mode */
	" mov %esp, %edx\n push %eax\n sub %esp, %edx\n pop %eax\n mov %edx, r+4*1\n"
	" int $0x40\n"
	"compat_after_int: mov %cs, %eax\n mov %eax, r+4*20\n"
	" movl $0x600d, r+4*3\n ljmp $0x18, $back64\n"
	/* ring 3 compatibility-mode code: IRETQ to CPL 3 nulled DS (it held the
	 * DPL 0 selector 0x10), and compat mode checks for a null DS (QEMU TCG
	 * does not), so load the DPL 3 data selector first */
	".globl u32_exit, u32_syscall, u32_syscall_ret, u32_sysenter, u32_sysenter_ret\n"
	"u32_exit: mov $0x2b, %eax\n mov %eax, %ds\n mov %cs, %eax\n mov %eax, r+4*7\n int $0x7f\n"
	"u32_syscall: mov $0x2b, %eax\n mov %eax, %ds\n mov %esp, r+4*15\n"
	" mov $0x1234, %ecx\n syscall\n"
	"u32_syscall_ret: mov %ecx, r+4*8\n mov %cs, %eax\n mov %eax, r+4*10\n"
	" mov %ss, %eax\n mov %eax, r+4*11\n int $0x7f\n"
	"u32_sysenter: mov $0x2b, %eax\n mov %eax, %ds\n mov %esp, r+4*15\n mov %esp, %ecx\n"
	" mov $u32_sysenter_ret, %edx\n"
	" sysenter\n"
	"u32_sysenter_ret: mov %cs, %eax\n mov %eax, r+4*16\n mov %ss, %eax\n"
	" mov %eax, r+4*17\n mov %esp, r+4*18\n int $0x7f\n"
	".code64\n"
	/* leave IA-32e mode (CR0.PG=0 from compat mode), look around, come back */
	".globl leave_lm\n"
	"leave_lm: push %rbx\n mov %rsp, saved_rsp(%rip)\n pushq $0x08\n lea 3f(%rip), %rax\n"
	" push %rax\n lretq\n"
	".code32\n"
	"3: mov %cr0, %eax\n and $0x7fffffff, %eax\n mov %eax, %cr0\n"
	" mov $0xc0000080, %ecx\n rdmsr\n mov %eax, r+4*21\n"
	" mov $5, %eax\n .byte 0x48\n mov %eax, r+4*22\n" /* still DEC in legacy mode */
	" mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
	" mov $0xc0000080, %ecx\n rdmsr\n mov %eax, r+4*23\n"
	" ljmp $0x18, $4f\n"
	".code64\n"
	"4: mov saved_rsp(%rip), %rsp\n pop %rbx\n ret\n"
	".globl k_cstar\n"
	"k_cstar: mov %ecx, r+4*12(%rip)\n mov %r11d, r+4*13(%rip)\n mov %cs, %eax\n"
	" mov %eax, r+4*14(%rip)\n sysretl\n"
	".globl k_sysenter\n"
	"k_sysenter: mov %cs, %eax\n mov %eax, r+4*19(%rip)\n sysexitl\n");

void leave_lm(void), enter_compat(void), u32_exit(void), u32_syscall(void), u32_sysenter(void),
	k_cstar(void), k_sysenter(void);
extern char compat_after_int[], u32_syscall_ret[], u32_sysenter_ret[];
uint64_t saved_rsp;

static void hook40(struct trap_frame *f)
{
	r[I_CS] = (uint32_t)f->cs;
	r[I_RSPOK] = f->ss == SEL_DATA && f->sp == saved_rsp && (trap.frame & 15) == 8;
	r[I_AFTER] = (uint32_t)f->ip;
}

int guest_main(void)
{
	trap_init();
	gdt_set(K_CS, 0, 0xfffff, 0x9b, 0xa);
	gdt_set(K_SS, 0, 0xfffff, 0x93, 0xc);
	gdt_set(U_CS32, 0, 0xfffff, 0xfb, 0xc);
	gdt_set(U_SS, 0, 0xfffff, 0xf3, 0xc);
	gdt_set(U_CS64, 0, 0xfffff, 0xfb, 0xa);

	/* ring 0: into compatibility mode and back */
	trap_set_hook(0x40, hook40);
	enter_compat();
	trap_set_hook(0x40, 0);
	check(r[C_RET] == 0x600d, "compat code ran and far-jumped back to 64-bit code");
	check(r[C_CS] == SEL_CODE32, "CS in compat mode %x", r[C_CS]);
	check(r[C_DEC] == 4, "0x48 is DEC EAX in compatibility mode (eax %d)", r[C_DEC]);
	check(r[C_PUSHD] == 4, "push in compat mode moves ESP by %d", r[C_PUSHD]);
	check(r[I_CS] == SEL_CODE32 && r[I_AFTER] == (uint32_t)(ureg)compat_after_int,
	      "INT from compat mode: frame CS %x RIP %x", r[I_CS], r[I_AFTER]);
	check(r[I_RSPOK], "INT from compat mode pushed SS:RSP, 16-byte aligned frame");
	check(r[C_CS2] == SEL_CODE32, "IRETQ returned to compat mode (cs %x)", r[C_CS2]);

	/* out of IA-32e mode and back: EFER.LMA follows CR0.PG (SDM §9.8.5) */
	leave_lm();
	check((r[L_EFER_OFF] & 0x500) == 0x100, "CR0.PG=0: EFER.LME=1 LMA=0 (%x)", r[L_EFER_OFF]);
	check(r[L_DEC] == 4, "legacy 32-bit mode: 0x48 is DEC (%d)", r[L_DEC]);
	check((r[L_EFER_ON] & 0x500) == 0x500, "CR0.PG=1 again: LMA=1 (%x)", r[L_EFER_ON]);
	check((rdmsr(0xc0000080) & 0x500) == 0x500, "back in 64-bit mode");

	/* ring 3 compat code via IRETQ */
	long v = trap_run_user(u32_exit, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT && r[U_CS] == SEL_UCODE32 && trap.cs == SEL_UCODE32 &&
		      trap.ss == SEL_UDATA,
	      "ring 3 compat via IRETQ: vec %d cs %x frame cs %lx ss %lx", (int)v, r[U_CS], trap.cs,
	      trap.ss);

	/* SYSCALL from compat mode: RIP = CSTAR; SYSRETL: CS = STAR[63:48] | 3 */
	wrmsr(0xc0000080, rdmsr(0xc0000080) | 1);
	wrmsr(0xc0000081, (uint64_t)U_CS32 << 48 | (uint64_t)K_CS << 32);
	wrmsr(0xc0000083, (ureg)k_cstar);
	wrmsr(0xc0000084, 0x200);
	uint32_t id[4];
	cpuid2(0, 0, id);
	int intel = id[1] == 0x756e6547;
	v = trap_run_user(u32_syscall, SEL_UCODE32, SEL_UDATA);
	if (intel) {
		/* Intel: SYSCALL is #UD outside 64-bit mode (SDM Vol. 2 SYSCALL: CS.L != 1);
		 * QEMU 7.2 TCG with vendor=GenuineIntel still takes it */
		check_sdm(v == 6 && trap.ip == (ureg)u32_syscall_ret - 2 && trap.cs == SEL_UCODE32,
			  "Intel: syscall in compat mode -> #UD (vec %d rip %lx)", (int)v, trap.ip);
	} else {
		/* AMD: allowed, RIP = IA32_CSTAR (APM Vol. 3 SYSCALL) */
		check(v == VEC_USER_EXIT, "compat syscall round trip (vec %d)", (int)v);
		check(r[K_RCX] == (uint32_t)(ureg)u32_syscall_ret && r[K_CS_] == K_CS,
		      "syscall from compat: RCX %x (want %x) CS %x", r[K_RCX],
		      (uint32_t)(ureg)u32_syscall_ret, r[K_CS_]);
		check(r[U_SC_RCX] == (uint32_t)(ureg)u32_syscall_ret &&
			      r[U_SC_CS] == (U_CS32 | 3) && r[U_SC_SS] == (U_SS | 3),
		      "sysretl: ECX %x CS %x SS %x", r[U_SC_RCX], r[U_SC_CS], r[U_SC_SS]);
	}

	/* SYSENTER from compat mode, SYSEXIT (32-bit) back: CS = base+16, SS = +24 */
	if (intel) {
		wrmsr(0x174, K_CS);
		wrmsr(0x175, (ureg)kstack_top);
		wrmsr(0x176, (ureg)k_sysenter);
		v = trap_run_user(u32_sysenter, SEL_UCODE32, SEL_UDATA);
		check(v == VEC_USER_EXIT && r[K_SE_CS] == K_CS, "compat sysenter: vec %d cs %x",
		      (int)v, r[K_SE_CS]);
		check(r[U_SE_CS] == (U_CS32 | 3) && r[U_SE_SS] == (U_SS | 3) &&
			      r[U_SE_ESP] == r[U_ESP0],
		      "sysexitl: CS %x SS %x ESP %x/%x", r[U_SE_CS], r[U_SE_SS], r[U_SE_ESP],
		      r[U_ESP0]);
	}
	return report("g64_compat");
}
