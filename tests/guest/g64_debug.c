/*
 * g64_debug — the debug facilities (SDM Vol. 3 chapter 17) in 64-bit mode:
 * TF single-stepping counted instruction by instruction, the MOV SS
 * shadow, DR0-DR3 execute breakpoints resumed with EFLAGS.RF, data
 * breakpoints (write-only vs read/write, length and alignment), I/O
 * breakpoints (CR4.DE), DR7.GD general detect (DR6.BD, GD cleared on
 * delivery), DR4/DR5 aliasing vs CR4.DE, DR6/DR7 fixed and reserved bits.
 */
#include "trap.h"

__asm__(".text\n"
	".globl t_steps, t_steps_end\n"
	"t_steps: pushf\n orl $0x100, (%rsp)\n popf\n nop\n nop\n nop\n nop\n"
	"t_steps_end: pushf\n andl $~0x100, (%rsp)\n popf\n ret\n"
	".globl t_movss, t_movss_b, t_movss_c\n"
	"t_movss: mov %ss, %eax\n pushf\n orl $0x100, (%rsp)\n popf\n mov %eax, %ss\n"
	"t_movss_b: nop\nt_movss_c: nop\n pushf\n andl $~0x100, (%rsp)\n popf\n ret\n"
	".globl t_x, t_x_ip\n"
	"t_x: nop\nt_x_ip: inc %eax\n ret\n"
	".globl t_wr, t_wr_next, t_rd, t_rd_next, t_rb, t_rb_next, t_far\n"
	"t_wr: movl $1, wvar(%rip)\nt_wr_next: ret\n"
	"t_rd: mov wvar(%rip), %eax\nt_rd_next: ret\n"
	"t_rb: movb wvar+2(%rip), %al\nt_rb_next: ret\n"
	"t_far: movb wvar+4(%rip), %al\n ret\n"
	".globl t_io, t_io_next\n"
	"t_io: mov $0, %al\n out %al, $0x80\nt_io_next: ret\n"
	".globl t_rep, t_rep_ip, t_rep_next\n"
	"t_rep: lea rbuf(%rip), %rdi\n mov $3, %ecx\n mov $0x77, %al\n"
	" pushf\n orl $0x100, (%rsp)\n popf\n nop\n"
	"t_rep_ip: rep stosb\n"
	"t_rep_next: pushf\n andl $~0x100, (%rsp)\n popf\n ret\n"
	".globl t_rep8, t_rep8_ip\n"
	"t_rep8: lea rbuf(%rip), %rdi\n mov $8, %ecx\n mov $0x66, %al\n"
	"t_rep8_ip: rep stosb\n ret\n"
	/* DR1 on the stack slot the PUSH writes (write, 8 bytes) */
	".globl t_push, t_push_next\n"
	"t_push: lea -8(%rsp), %rax\n mov %rax, %dr1\n mov $0x900404, %eax\n mov %rax, %dr7\n"
	" push $5\nt_push_next: pop %rax\n mov $0x400, %eax\n mov %rax, %dr7\n ret\n"
	/* DR1 on a byte MOVSB (no REP) reads: RW=11 */
	".globl t_movsb, t_movsb_next\n"
	"t_movsb: lea rbuf+2(%rip), %rsi\n lea rbuf+6(%rip), %rdi\n movsb\nt_movsb_next: ret\n"
	".globl t_gd, t_gd_ip\n"
	"t_gd: nop\nt_gd_ip: mov %dr0, %rax\n ret\n");
void t_rep(void), t_rep8(void), t_push(void), t_movsb(void);
extern char t_rep8_ip[], t_push_next[], t_movsb_next[];
extern char t_rep_ip[], t_rep_next[];
uint8_t rbuf[8];
void t_steps(void), t_movss(void), t_x(void), t_wr(void), t_rd(void), t_rb(void), t_far(void),
	t_io(void), t_gd(void);
extern char t_steps_end[], t_movss_b[], t_movss_c[], t_x_ip[], t_wr_next[], t_rd_next[],
	t_rb_next[], t_io_next[], t_gd_ip[];
volatile uint64_t wvar __attribute__((aligned(8)));

#define DR6_INIT 0xffff0ff0ul

static ureg get_dr6(void)
{
	ureg v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}
static ureg get_dr7(void)
{
	ureg v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}
static void set_dr6(ureg v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}
static void set_dr7(ureg v)
{
	__asm__ volatile("mov %0, %%dr7" ::"r"(v));
}
static void set_dr(int n, ureg v)
{
	switch (n) {
	case 0:
		__asm__ volatile("mov %0, %%dr0" ::"r"(v));
		break;
	case 1:
		__asm__ volatile("mov %0, %%dr1" ::"r"(v));
		break;
	case 2:
		__asm__ volatile("mov %0, %%dr2" ::"r"(v));
		break;
	default:
		__asm__ volatile("mov %0, %%dr3" ::"r"(v));
		break;
	}
}
/* DR7 value enabling breakpoint n locally with the given RW and LEN codes */
static ureg dr7_bp(int n, unsigned rw, unsigned len)
{
	return 0x400ul | 1ul << (2 * n) | (ureg)rw << (16 + 4 * n) | (ureg)len << (18 + 4 * n);
}

/* stepping hook: record each #DB and keep TF for the next */
static volatile ureg step_ips[16], step_dr6[16];
static volatile ureg step_flags[16], step_rcx[16];
static volatile int nsteps, resume_rf;
static void db_hook(struct trap_frame *f)
{
	if (nsteps < 16) {
		step_ips[nsteps] = f->ip;
		step_dr6[nsteps] = get_dr6();
		step_flags[nsteps] = f->flags;
		step_rcx[nsteps] = f->rcx;
	}
	nsteps++;
	set_dr6(DR6_INIT);
	if (resume_rf)
		f->flags |= 0x10000; /* RF: do not re-trigger the instruction breakpoint */
}

static volatile ureg xv;
static void f_wrdr7(void)
{
	set_dr7(xv);
}
static void f_wrdr6(void)
{
	set_dr6(xv);
}
static void f_rddr4(void)
{
	__asm__ volatile("mov %%dr4, %0" : "=r"(xv));
}

int guest_main(void)
{
	trap_init();
	set_dr6(DR6_INIT);
	set_dr7(0x400);
	long v;

	/* single step: one #DB per instruction, after it; DR6.BS */
	trap_set_hook(1, db_hook);
	nsteps = 0;
	t_steps();
	/* #DB after nop1..nop4, the pushf, the andl and the popf that clears TF */
	check(nsteps == 7, "single-stepped %d instructions (want 7)", nsteps);
	check(step_ips[3] == (ureg)t_steps_end && (step_dr6[0] & 0x4000),
	      "4th step stops at %lx (want %lx), DR6 %lx", step_ips[3], (ureg)t_steps_end,
	      step_dr6[0]);
	/* MOV SS blocks the #DB of the next instruction (SDM §6.8.3) */
	nsteps = 0;
	t_movss();
	check(nsteps >= 1 && step_ips[0] == (ureg)t_movss_c,
	      "TF over mov ss: first #DB at %lx (want %lx, after the shadowed insn)", step_ips[0],
	      (ureg)t_movss_c);
	(void)t_movss_b;
	/* single-stepping REP STOSB: a #DB after every iteration, RIP back on
	 * the instruction (RF=1 pushed) until the last one (§17.3.1.1) */
	nsteps = 0;
	t_rep();
	/* #DB after the nop, 3 iterations, then pushf, andl, popf */
	check(nsteps == 7 && step_ips[1] == (ureg)t_rep_ip && step_rcx[1] == 2 &&
		      step_ips[2] == (ureg)t_rep_ip && step_rcx[2] == 1 &&
		      step_ips[3] == (ureg)t_rep_next && step_rcx[3] == 0,
	      "TF over rep stosb x3: %d #DBs, rip/rcx %lx/%ld %lx/%ld %lx/%ld", nsteps, step_ips[1],
	      step_rcx[1], step_ips[2], step_rcx[2], step_ips[3], step_rcx[3]);
	/* QEMU 7.2 TCG does not set RF in the frame */
	check_sdm((step_flags[1] & 0x10000) && (step_flags[2] & 0x10000) &&
			  !(step_flags[3] & 0x10000),
		  "RF pushed 1 for inner iterations, 0 after the last (%lx %lx %lx)", step_flags[1],
		  step_flags[2], step_flags[3]);
	check(rbuf[0] == 0x77 && rbuf[2] == 0x77 && rbuf[3] == 0, "rep stosb stored 3 bytes");

	/* execute breakpoint on DR0..DR3, each resumed with RF */
	resume_rf = 1;
	for (int n = 0; n < 4; n++) {
		nsteps = 0;
		set_dr(n, (ureg)t_x_ip);
		set_dr7(dr7_bp(n, 0, 0));
		t_x();
		set_dr7(0x400);
		/* B0-B3 of matching but disabled breakpoints may also be set (§17.2.3) */
		check(nsteps == 1 && step_ips[0] == (ureg)t_x_ip && (step_dr6[0] & 1u << n),
		      "DR%d execute breakpoint: %d hits at %lx dr6 %lx", n, nsteps, step_ips[0],
		      step_dr6[0]);
	}
	resume_rf = 0;
	/* global enable (G0) works the same */
	nsteps = 0;
	set_dr(0, (ureg)t_x_ip);
	set_dr7(0x400 | 2);
	resume_rf = 1;
	t_x();
	resume_rf = 0;
	set_dr7(0x400);
	check(nsteps == 1, "G0 breakpoint hit %d times", nsteps);

	/* data breakpoints: RW=01 write only, RW=11 read/write; traps after */
	set_dr(1, (ureg)&wvar);
	set_dr7(dr7_bp(1, 1, 3)); /* write, 4 bytes */
	nsteps = 0;
	t_rd();
	check(nsteps == 0, "read does not hit a write breakpoint (%d)", nsteps);
	t_wr();
	check(nsteps == 1 && step_ips[0] == (ureg)t_wr_next && (step_dr6[0] & 0xf) == 2,
	      "write breakpoint: %d hits, rip %lx (want %lx) dr6 %lx", nsteps, step_ips[0],
	      (ureg)t_wr_next, step_dr6[0]);
	set_dr7(dr7_bp(1, 3, 3)); /* read/write, 4 bytes */
	nsteps = 0;
	t_rd();
	check(nsteps == 1 && step_ips[0] == (ureg)t_rd_next, "read hits an RW breakpoint (%d)",
	      nsteps);
	nsteps = 0;
	t_rb();
	check(nsteps == 1 && step_ips[0] == (ureg)t_rb_next,
	      "byte read inside the 4-byte range hits (%d)", nsteps);
	nsteps = 0;
	t_far();
	check(nsteps == 0, "byte read outside the range does not (%d)", nsteps);
	set_dr7(0x400);
	/* data breakpoint hit inside REP STOSB: trap after that iteration, RIP on
	 * the REP with RCX counting what is left (§17.3.1.2, §17.3.1.1) */
	set_dr(1, (ureg)&rbuf[4]);
	set_dr7(dr7_bp(1, 1, 0)); /* write, 1 byte */
	nsteps = 0;
	t_rep8();
	set_dr7(0x400);
	int rep_hits = nsteps;
	ureg rep_flags = step_flags[0];
	check(nsteps == 1 && step_ips[0] == (ureg)t_rep8_ip && step_rcx[0] == 3 &&
		      (step_dr6[0] & 2),
	      "data breakpoint in rep stosb: %d hits rip %lx (want %lx) rcx %ld dr6 %lx", nsteps,
	      step_ips[0], (ureg)t_rep8_ip, step_rcx[0], step_dr6[0]);
	check(rbuf[7] == 0x66, "rep stosb completed after the breakpoint");
	nsteps = 0;
	t_push();
	check(nsteps == 1 && step_ips[0] == (ureg)t_push_next && (step_dr6[0] & 2),
	      "data breakpoint on the slot PUSH writes: %d hits rip %lx", nsteps, step_ips[0]);
	set_dr(1, (ureg)&rbuf[2]);
	set_dr7(dr7_bp(1, 3, 0)); /* read/write, 1 byte */
	nsteps = 0;
	t_movsb();
	set_dr7(0x400);
	check(nsteps == 1 && step_ips[0] == (ureg)t_movsb_next && (step_dr6[0] & 2),
	      "RW breakpoint on the byte MOVSB reads: %d hits rip %lx", nsteps, step_ips[0]);
	if (rep_hits == 1)
		check_sdm(rep_flags & 0x10000, "RF=1 pushed for a trap between iterations (%lx)",
			  rep_flags);

	/* I/O breakpoint: RW=10 needs CR4.DE (SDM §17.2.4) */
	ureg cr4 = read_cr4();
	write_cr4(cr4 | 8);
	set_dr(2, 0x80);
	set_dr7(dr7_bp(2, 2, 0));
	nsteps = 0;
	t_io();
	set_dr7(0x400);
	check(nsteps == 1 && step_ips[0] == (ureg)t_io_next && (step_dr6[0] & 4),
	      "I/O breakpoint on port 0x80: %d hits rip %lx dr6 %lx", nsteps, step_ips[0],
	      step_dr6[0]);
	/* DR4/DR5: #UD with CR4.DE=1, aliases of DR6/DR7 without */
	v = trap_run(f_rddr4);
	check(v == 6, "mov dr4 with CR4.DE=1 -> #UD (vec %d)", (int)v);
	write_cr4(cr4 & ~8ul);
	set_dr6(DR6_INIT | 1);
	v = trap_run(f_rddr4);
	check(v == -1 && xv == get_dr6(), "mov dr4 with CR4.DE=0 reads DR6 (%lx vs %lx)", xv,
	      get_dr6());
	set_dr6(DR6_INIT);
	trap_set_hook(1, 0);

	/* general detect: DR7.GD, then any MOV DRn faults with DR6.BD; GD cleared */
	set_dr7(0x400 | 0x2000);
	v = trap_run(t_gd);
	ureg dr6 = get_dr6(), dr7 = get_dr7();
	/* QEMU 7.2 TCG does not implement DR7.GD */
	check_sdm(v == 1 && trap.ip == (ureg)t_gd_ip && (dr6 & 0x2000) && !(dr7 & 0x2000),
		  "DR7.GD: vec %d rip %lx (want %lx) dr6 %lx dr7 %lx", (int)v, trap.ip,
		  (ureg)t_gd_ip, dr6, dr7);
	set_dr6(DR6_INIT);
	set_dr7(0x400);

	/* fixed/reserved bits */
	set_dr6(0);
	check(get_dr6() == DR6_INIT, "DR6 fixed bits read as 1 (%lx)", get_dr6());
	set_dr7(0);
	check(get_dr7() == 0x400, "DR7 bit 10 reads as 1 (%lx)", get_dr7());
	xv = 1ul << 32;
	v = trap_run(f_wrdr7);
	check(v == 13 && trap.err == 0, "DR7 bit 32 -> #GP(0) (vec %d)", (int)v);
	v = trap_run(f_wrdr6);
	check(v == 13 && trap.err == 0, "DR6 bit 32 -> #GP(0) (vec %d)", (int)v);
	return report("g64_debug");
}
