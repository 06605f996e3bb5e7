/*
 * g64_debug_ss — single-step and debug-trap corner cases (SDM Vol. 3
 * §17.3.1, §6.8.3; what kvm-unit-tests' debug test checks on hardware):
 *   - HLT with TF = 1 and IF = 0: the single-step #DB resumes the HLT (a
 *     debug exception is a wake-up event), trapping with RIP after HLT;
 *   - INT n, INT3 and INT1 executed with TF = 1: the handler is entered with
 *     TF = 0 and no single-step #DB is taken for the INT instruction itself;
 *     stepping resumes after the handler's IRET;
 *   - MOV SS that hits a data breakpoint, then INT1 (ICEBP): the deferred
 *     trap and ICEBP's #DB are one delivery, with DR6.B0 set;
 *   - Intel: an instruction breakpoint on the instruction right after MOV
 *     SS is inhibited (lost); one that is not after MOV SS fires.
 */
#include "trap.h"

#define TF 0x100ul

static volatile int ndb, nint;
static volatile ureg db_ip[8], db_dr6[8], int_flags;

static ureg get_dr6(void)
{
	ureg v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}
static void set_dr6(ureg v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

/* #DB: record; keep stepping until the marker instruction. */
static void db_hook(struct trap_frame *f)
{
	if (ndb < 8) {
		db_ip[ndb] = f->ip;
		db_dr6[ndb] = get_dr6();
	}
	ndb++;
	set_dr6(0xffff0ff0ul);
}
static void int_hook(struct trap_frame *f)
{
	nint++;
	int_flags = read_flags();
}

__asm__(".text\n"
	".globl t_hlt, t_hlt_after, t_int, t_int_after, t_int_next\n"
	"t_hlt: pushfq\n orq $0x100, (%rsp)\n popfq\n"
	" nop\n"
	" hlt\n"
	"t_hlt_after: pushfq\n andq $~0x100, (%rsp)\n popfq\n ret\n"
	"t_int: pushfq\n orq $0x100, (%rsp)\n popfq\n"
	" nop\n"
	" int $0x40\n"
	"t_int_after: nop\n"
	"t_int_next: pushfq\n andq $~0x100, (%rsp)\n popfq\n ret\n");
void t_hlt(void), t_int(void);
extern char t_hlt_after[], t_int_after[], t_int_next[];

static volatile uint64_t watched;
__asm__(".text\n.globl t_movss_icebp, t_movss_icebp_after\n"
	"t_movss_icebp: mov %ss, %ax\n mov %ax, watched(%rip)\n"
	" mov watched(%rip), %ss\n .byte 0xf1\n"
	"t_movss_icebp_after: ret\n");
void t_movss_icebp(void);
extern char t_movss_icebp_after[];

/* Instruction breakpoint (DR1) on bp_insn, reached once after MOV SS and
 * once not; the #DB hook sets RF so the faulting XOR then runs. */
__asm__(".text\n.globl t_bp_movss, t_bp_plain, bp_insn\n"
	"t_bp_movss: mov %ss, %ax\n mov %ax, %ss\n"
	"bp_insn: xor %eax, %eax\n ret\n"
	"t_bp_plain: mov %ss, %ax\n jmp bp_insn\n");
void t_bp_movss(void), t_bp_plain(void);
extern char bp_insn[];
static void db_rf_hook(struct trap_frame *f)
{
	db_hook(f);
	f->flags |= 0x10000; /* RF: do not fault again on the same instruction */
}

int guest_main(void)
{
	trap_init();
	trap_set_hook(1, db_hook);
	trap_set_hook(0x40, int_hook);

	/* HLT, IF = 0: only the #DB can end it (QEMU TCG hangs here). Steps:
	 * after the NOP (POPF set TF), after HLT, then PUSHFQ, ANDQ, POPFQ. */
	ndb = 0;
	__asm__ volatile("cli");
	t_hlt();
	check(ndb == 5, "TF over HLT: %d #DBs (want 5)", ndb);
	check(db_ip[1] == (ureg)t_hlt_after && (db_dr6[1] & 0x4000),
	      "HLT step traps after HLT: ip %lx (want %lx) DR6 %lx", db_ip[1], (ureg)t_hlt_after,
	      db_dr6[1]);

	/* INT n: #DB after NOP, none after INT (handler runs with TF = 0),
	 * then after the instruction the handler returns to. */
	ndb = nint = 0;
	t_int();
	check(nint == 1 && !(int_flags & TF), "INT 40h handler ran once with TF clear (%d, %lx)",
	      nint, int_flags);
	check(ndb == 5, "TF over INT n: %d #DBs (want 5: none for INT itself)", ndb);
	check(db_ip[1] == (ureg)t_int_next, "2nd step after the NOP following INT: %lx (want %lx)",
	      db_ip[1], (ureg)t_int_next);

	/* MOV SS hitting a 8-byte read/write breakpoint (DR0), then ICEBP. */
	ndb = 0;
	__asm__ volatile("mov %0, %%dr0" ::"r"((ureg)&watched));
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul | 0x2 | 3ul << 16 | 2ul << 18));
	set_dr6(0xffff0ff0ul);
	t_movss_icebp();
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul));
	/* The MOV to memory before MOV SS hits the breakpoint too: one #DB
	 * after it, then one for MOV SS + ICEBP together. */
	check(ndb == 2, "MOV SS + watchpoint + ICEBP: %d #DBs (want 2)", ndb);
	check(db_ip[1] == (ureg)t_movss_icebp_after && (db_dr6[1] & 1) && !(db_dr6[1] & 0x4000),
	      "one #DB after ICEBP with B0: ip %lx (want %lx) DR6 %lx", db_ip[1],
	      (ureg)t_movss_icebp_after, db_dr6[1]);

	uint32_t id[4];
	cpuid2(0, 0, id);
	if (id[1] == 0x756e6547) { /* "Genu"ineIntel */
		trap_set_hook(1, db_rf_hook);
		__asm__ volatile("mov %0, %%dr1" ::"r"((ureg)bp_insn));
		__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul | 0x8)); /* G1, execute, 1 byte */
		ndb = 0;
		t_bp_movss();
		int after_movss = ndb;
		ndb = 0;
		t_bp_plain();
		int plain = ndb;
		__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul));
		trap_set_hook(1, db_hook);
		check_sdm(after_movss == 0, "Intel: breakpoint after MOV SS inhibited (%d #DBs)",
			  after_movss);
		check(plain == 1 && db_ip[0] == (ureg)bp_insn && (db_dr6[0] & 2),
		      "the same breakpoint without MOV SS: %d #DBs at %lx DR6 %lx", plain, db_ip[0],
		      db_dr6[0]);
	}
	return report("g64_debug_ss");
}
