/*
 * g64_syscall_tf — single-step (RFLAGS.TF) around SYSCALL and SYSRET. Unlike
 * other instructions, whose single-step trap depends on TF at their start,
 * these trap according to TF at their END (what KVM and the kvm-unit-tests
 * "syscall" test rely on): an OS masks TF with IA32_FMASK so SYSCALL itself
 * does not trap into the kernel entry, and a SYSRET that restores TF = 1
 * from R11 traps right after it, before the first user instruction.
 *   1. user sets TF, SYSCALL with FMASK.TF: no trap in the kernel; SYSRETQ
 *      (R11.TF = 1) traps once, at the user instruction after SYSCALL;
 *   2. FMASK without TF: SYSCALL traps at the LSTAR target (CPL 0), then
 *      SYSRETQ traps at the user instruction: two traps;
 *   3. both again with a DR7 breakpoint armed (nestbox's one-instruction-
 *      at-a-time debug path) instead of the block path.
 */
#include "trap.h"

#define KCS       0x48 /* STAR[47:32]: 64-bit kernel code, +8 = kernel data */
#define KDS       0x50
#define UBASE     0x20 /* STAR[63:48]: +8 = user data (0x2b), +16 = code64 (0x33) */
#define MSR_EFER  0xc0000080u
#define MSR_STAR  0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_FMASK 0xc0000084u
#define TF        0x100ul

__asm__(".text\n"
	".globl k_entry, u_sc, u_sc_after\n"
	/* kernel entry: RCX = user RIP, R11 = user RFLAGS (TF set) */
	"k_entry: sysretq\n"
	"u_sc: pushfq\n orq $0x100, (%rsp)\n popfq\n"
	" syscall\n"
	"u_sc_after: nop\n"
	" pushfq\n andq $~0x100, (%rsp)\n popfq\n ret\n");
void k_entry(void), u_sc(void);
extern char u_sc_after[];

static volatile int ndb;
static volatile ureg db_ip[4], db_cs[4], db_dr6[4];

static void db_hook(struct trap_frame *f)
{
	ureg dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	if (ndb < 4) {
		db_ip[ndb] = f->ip;
		db_cs[ndb] = f->cs;
		db_dr6[ndb] = dr6;
	}
	ndb++;
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0ul));
	/* Stop stepping in user mode (the kernel entry keeps TF: R11 has it). */
	if ((f->cs & 3) == 3)
		f->flags &= ~TF;
}

static void run(const char *what, ureg fmask, int want, int kernel_trap)
{
	ndb = 0;
	wrmsr(MSR_FMASK, fmask);
	long v = trap_run_user(u_sc, SEL_UCODE64, SEL_UDATA);
	check(v == VEC_USER_EXIT, "%s: user part ended with vector %d", what, (int)v);
	check(ndb == want, "%s: %d single-step traps (want %d)", what, ndb, want);
	int i = 0;
	if (kernel_trap && ndb > 0) {
		check(db_cs[0] == KCS && db_ip[0] == (ureg)k_entry && (db_dr6[0] & 0x4000),
		      "%s: trap after SYSCALL at %lx:%lx DR6 %lx (want %x:%lx BS)", what, db_cs[0],
		      db_ip[0], db_dr6[0], KCS, (ureg)k_entry);
		i = 1;
	}
	if (ndb > i)
		check(db_cs[i] == ((UBASE + 16) | 3) && db_ip[i] == (ureg)u_sc_after &&
			      (db_dr6[i] & 0x4000),
		      "%s: trap after SYSRET at %lx:%lx DR6 %lx (want %x:%lx BS)", what, db_cs[i],
		      db_ip[i], db_dr6[i], (UBASE + 16) | 3, (ureg)u_sc_after);
}

int guest_main(void)
{
	trap_init();
	gdt_set(KCS, 0, 0xfffff, 0x9b, 0xa);  /* code64, DPL 0 */
	gdt_set(KDS, 0, 0xfffff, 0x93, 0xc);  /* data, DPL 0 */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
	wrmsr(MSR_STAR, (uint64_t)UBASE << 48 | (uint64_t)KCS << 32);
	wrmsr(MSR_LSTAR, (ureg)k_entry);
	trap_set_hook(1, db_hook);

	run("FMASK.TF", TF, 1, 0);
	run("FMASK without TF", 0, 2, 1);

	/* An enabled DR0 breakpoint on an unused address sends nestbox down its
	 * one-instruction debug path; the results must not change. */
	static volatile int unused;
	__asm__ volatile("mov %0, %%dr0" ::"r"((ureg)&unused));
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul | 0x2 | 3ul << 16 | 3ul << 18));
	run("FMASK.TF, DR7 armed", TF, 1, 0);
	run("FMASK without TF, DR7 armed", 0, 2, 1);
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul));
	return report("g64_syscall_tf");
}
