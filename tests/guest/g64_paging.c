/*
 * g64_paging — 4-level paging in IA-32e mode (SDM Vol. 3 §4.5-4.10): 4K, 2M
 * and 1G pages, accessed/dirty bits, #PF error codes and CR2 for
 * not-present, write to read-only with CR0.WP on/off, user access to
 * supervisor pages, NX fetch (EFER.NXE), reserved bits (RSVD), SMEP, SMAP
 * with STAC/CLAC, INVLPG, global pages across CR3 writes (CR4.PGE), PCID,
 * and the rule that CR4.LA57 cannot change in IA-32e mode.
 * The test mappings live at 512 GiB (PML4[1]); PML4[0] stays the boot
 * identity map of the low 4 GiB.
 */
#include "trap.h"

#define BASE    0x8000000000ul
#define VA4K(i) (BASE + (ureg)(i)*4096) /* PT entries, PD_t[0] */
#define VA2M    (BASE + 0x200000ul)     /* PD_t[1], 2M page */
#define VA1G    (BASE + 0x40000000ul)   /* PDPT_t[1], 1G page */

#define P   1ull
#define RW  2ull
#define US  4ull
#define PWT 8ull
#define A   0x20ull
#define D   0x40ull
#define PS  0x80ull
#define G   0x100ull
#define XD  (1ull << 63)

extern volatile uint64_t pml4[];
static volatile uint64_t pdpt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_t[512] __attribute__((aligned(4096)));
static uint8_t pages[8][4096] __attribute__((aligned(4096)));

static volatile ureg addr, val;
static void f_read(void)
{
	val = *(volatile uint64_t *)addr;
}
static void f_write(void)
{
	*(volatile uint64_t *)addr = val;
}
static void f_exec(void)
{
	((void (*)(void))addr)();
}
static void u_read(void)
{
	val = *(volatile uint64_t *)addr;
}
static void u_write(void)
{
	*(volatile uint64_t *)addr = val;
}

__asm__(".text\n.globl u_int3, u_int3_ip\nu_int3: nop\nu_int3_ip: int3\n ret\n");
void u_int3(void);
/* page-crossing accesses; operands come from xp_* */
__asm__(".text\n"
	".globl x_rd8, x_rd8_ip, x_wr8, x_wr8_ip, x_stos, x_stos_ip\n"
	"x_rd8: mov xp_addr(%rip), %rbx\nx_rd8_ip: mov (%rbx), %rax\n ret\n"
	"x_wr8: mov xp_addr(%rip), %rbx\n mov $0x1111111111111111, %rax\n"
	"x_wr8_ip: mov %rax, (%rbx)\n ret\n"
	"x_stos: mov xp_addr(%rip), %rdi\n mov $16, %rcx\n mov $0x5a, %al\n cld\n"
	"x_stos_ip: rep stosb\n ret\n"
	/* backwards: DF=1 from xp_addr, 16 bytes */
	".globl x_stosd, x_stosd_ip\n"
	"x_stosd: mov xp_addr(%rip), %rdi\n mov $16, %rcx\n mov $0x3c, %al\n std\n"
	"x_stosd_ip: rep stosb\n cld\n ret\n"
	/* CMPXCHG whose compare fails still writes (locked RMW semantics) */
	".globl x_cmpxchg, x_cmpxchg_ip\n"
	"x_cmpxchg: mov xp_addr(%rip), %rbx\n mov $0x1234, %eax\n mov $0x5678, %ecx\n"
	"x_cmpxchg_ip: cmpxchg %ecx, (%rbx)\n ret\n");
void x_rd8(void), x_wr8(void), x_stos(void), x_stosd(void), x_cmpxchg(void);
extern char x_rd8_ip[], x_wr8_ip[], x_stos_ip[], x_stosd_ip[], x_cmpxchg_ip[];
ureg xp_addr;
extern char u_int3_ip[];

static void invlpg(ureg a)
{
	__asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
}

static void flush_all(void)
{
	write_cr3(read_cr3());
}

static int sdm_only; /* the next pf() is a check_sdm() */

/* one access; expects a #PF with err and CR2 = a, or no fault (err == -1) */
static void pf(void (*fn)(void), ureg a, long err, const char *what)
{
	addr = a;
	long v = trap_run(fn);
	int ok = err < 0 ? v == -1 : v == 14 && trap.err == (ureg)err && trap.cr2 == a;
	int sdm = sdm_only;
	sdm_only = 0;
	if (sdm)
		check_sdm(ok, "%s: vector %d err %lx cr2 %lx (want err %lx)", what, (int)v,
			  trap.err, trap.cr2, (ureg)err);
	else
		check(ok, "%s: vector %d err %lx cr2 %lx (want err %lx)", what, (int)v, trap.err,
		      trap.cr2, (ureg)err);
}

static void upf(void (*fn)(void), ureg a, long err, const char *what)
{
	addr = a;
	long v = trap_run_user(fn, SEL_UCODE64, SEL_UDATA);
	if (err < 0)
		check(v == VEC_USER_EXIT, "%s: unexpected vector %d err %lx cr2 %lx", what, (int)v,
		      trap.err, trap.cr2);
	else
		check(v == 14 && trap.err == (ureg)err && trap.cr2 == a,
		      "%s: vector %d err %lx cr2 %lx (want #PF err %lx cr2 %lx)", what, (int)v,
		      trap.err, trap.cr2, (ureg)err, a);
}

static volatile ureg xcr4;
/* INVPCID type xtype with descriptor xdesc[] (PCID in [0] bits 11:0, address in [1]) */
static volatile ureg xtype;
static uint64_t xdesc[2] __attribute__((aligned(16)));
static void f_invpcid(void)
{
	__asm__ volatile("invpcid %0, %1" ::"m"(xdesc), "r"(xtype) : "memory");
}
static long invpcid(ureg type, uint64_t pcid, uint64_t a)
{
	xtype = type;
	xdesc[0] = pcid;
	xdesc[1] = a;
	return trap_run(f_invpcid);
}
static void u_invpcid(void)
{
	__asm__ volatile("invpcid %0, %1" ::"m"(xdesc), "r"(2ul) : "memory");
}
static void f_cr4(void)
{
	write_cr4(xcr4);
}

int guest_main(void)
{
	trap_init();
	uint32_t id[4];
	cpuid2(0x80000001, 0, id);
	int has_nx = id[3] >> 20 & 1, has_1g = id[3] >> 26 & 1;
	cpuid2(7, 0, id);
	int has_smep = id[1] >> 7 & 1, has_smap = id[1] >> 20 & 1, has_invpcid = id[1] >> 10 & 1;
	int has_la57 = id[2] >> 16 & 1;
	cpuid2(1, 0, id);
	int has_pcid = id[2] >> 17 & 1, has_pge = id[3] >> 13 & 1;
	cpuid2(0x80000008, 0, id);
	unsigned maxphys = id[0] & 0xff;
	guest_printf(
		"g64_paging: nx %d 1g %d smep %d smap %d pcid %d invpcid %d la57 %d maxphys %d\n",
		has_nx, has_1g, has_smep, has_smap, has_pcid, has_invpcid, has_la57, maxphys);

	pml4[1] = (ureg)pdpt_t | P | RW | US;
	pdpt_t[0] = (ureg)pd_t | P | RW | US;
	pd_t[0] = (ureg)pt_t | P | RW | US;
	for (int i = 0; i < 8; i++)
		pt_t[i] = (ureg)pages[i] | P | RW;
	pd_t[1] = 0x800000 | P | RW | PS; /* 2M page at 8 MiB */
	if (has_1g)
		pdpt_t[1] = 0 | P | RW | PS; /* 1G page at 0 */
	flush_all();

	/* 4K: aliasing and A/D bits */
	*(volatile uint64_t *)pages[0] = 0x1122334455667788ull;
	check(*(volatile uint64_t *)VA4K(0) == 0x1122334455667788ull, "read through 4K mapping");
	check((pt_t[0] & (A | D)) == A, "read sets A only (pte %lx)", pt_t[0]);
	check(pd_t[0] & A, "read sets A in the PDE (%lx)", pd_t[0]);
	check(pdpt_t[0] & A, "read sets A in the PDPTE (%lx)", pdpt_t[0]);
	check(pml4[1] & A, "read sets A in the PML4E (%lx)", pml4[1]);
	*(volatile uint64_t *)VA4K(1) = 42;
	check(*(volatile uint64_t *)pages[1] == 42, "write through 4K mapping");
	check((pt_t[1] & (A | D)) == (A | D), "write sets A and D (pte %lx)", pt_t[1]);
	check(!(pd_t[0] & D), "D is only set in the last level (pde %lx)", pd_t[0]);
	/* 2M */
	*(volatile uint32_t *)(VA2M + 0x1234) = 0xcafe;
	check(*(volatile uint32_t *)(0x800000 + 0x1234) == 0xcafe, "write through 2M page");
	check((pd_t[1] & (A | D)) == (A | D), "2M page A and D (pde %lx)", pd_t[1]);
	/* 1G */
	if (has_1g) {
		static volatile uint64_t marker = 0x5a5a5a5a12345678ull;
		check(*(volatile uint64_t *)(VA1G + (ureg)&marker) == marker,
		      "read through 1G page");
		check(pdpt_t[1] & A, "1G page A (%lx)", pdpt_t[1]);
	}

	/* not present: err bit 0 clear, W/R in bit 1 */
	pt_t[2] = (ureg)pages[2];
	invlpg(VA4K(2));
	pf(f_read, VA4K(2) + 8, 0, "read not-present");
	pf(f_write, VA4K(2) + 16, 2, "write not-present");
	pd_t[2] = 0; /* not present at PDE level */
	pf(f_read, BASE + 0x400000 + 0x123, 0, "read with PDE not present");
	check(!(pt_t[2] & A), "no A bit on a not-present PTE");

	/* read-only page, CR0.WP */
	pt_t[3] = (ureg)pages[3] | P;
	invlpg(VA4K(3));
	ureg cr0 = read_cr0();
	write_cr0(cr0 & ~0x10000ul);
	val = 7;
	pf(f_write, VA4K(3), -1, "CPL0 write to read-only with WP=0 is allowed");
	check(*(volatile uint64_t *)pages[3] == 7 && (pt_t[3] & D), "it wrote and set D (%lx)",
	      pt_t[3]);
	write_cr0(cr0 | 0x10000);
	pf(f_write, VA4K(3) + 8, 3, "CPL0 write to read-only with WP=1");
	pt_t[3] = (ureg)pages[3] | P | RW;
	pd_t[0] &= ~RW; /* read-only at PDE level applies too */
	flush_all();
	pf(f_write, VA4K(3) + 8, 3, "write with PDE R/W=0");
	pd_t[0] |= RW;
	flush_all();
	pf(f_write, VA4K(3) + 8, -1, "write after restoring PDE R/W");

	/* user vs supervisor */
	pt_t[4] = (ureg)pages[4] | P | RW; /* supervisor */
	invlpg(VA4K(4));
	upf(u_read, VA4K(4), 5, "CPL3 read of supervisor page");
	upf(u_write, VA4K(4), 7, "CPL3 write of supervisor page");
	pt_t[4] |= US;
	invlpg(VA4K(4));
	val = 99;
	upf(u_write, VA4K(4), -1, "CPL3 write of user page");
	check(*(volatile uint64_t *)pages[4] == 99, "user write landed");
	pt_t[4] &= ~RW;
	invlpg(VA4K(4));
	upf(u_write, VA4K(4), 7, "CPL3 write of read-only user page");
	pd_t[0] &= ~US; /* U/S=0 at any level makes it supervisor */
	flush_all();
	upf(u_read, VA4K(4), 5, "CPL3 read with PDE U/S=0");
	pd_t[0] |= US;
	flush_all();

	/* NX */
	pages[5][0] = 0xc3; /* ret */
	pt_t[5] = (ureg)pages[5] | P | RW;
	invlpg(VA4K(5));
	if (has_nx) {
		wrmsr(0xc0000080, rdmsr(0xc0000080) | 0x800);
		pf(f_exec, VA4K(5), -1, "fetch from executable page");
		pt_t[5] |= XD;
		invlpg(VA4K(5));
		pf(f_exec, VA4K(5), 0x11, "fetch from XD page: P | I/D");
		pf(f_read, VA4K(5), -1, "read from XD page is fine");
		pt_t[6] = (ureg)pages[6];
		invlpg(VA4K(6));
		pf(f_exec, VA4K(6), 0x10, "fetch from not-present page with NXE: I/D");
		wrmsr(0xc0000080, rdmsr(0xc0000080) & ~0x800ull);
		sdm_only = 1;
		pf(f_read, VA4K(5), 9, "XD bit with EFER.NXE=0 is reserved: P | RSVD");
		pt_t[5] &= ~XD;
		invlpg(VA4K(5));
	}

	/* reserved bits: SDM §4.7, a reserved-bit fault reports P=1 and RSVD=1
	 * (as real CPUs and KVM do); QEMU 7.2 TCG reports RSVD without P. */
	if (maxphys < 52) {
		pt_t[7] = (ureg)pages[7] | P | RW | (1ull << maxphys);
		invlpg(VA4K(7));
		sdm_only = 1;
		pf(f_read, VA4K(7), 9, "PTE address bit above MAXPHYADDR: P | RSVD");
		sdm_only = 1;
		pf(f_write, VA4K(7), 0xb, "write, same: P | W | RSVD");
		pt_t[7] = (ureg)pages[7] | P | RW;
		invlpg(VA4K(7));
	}
	pml4[1] |= PS; /* PS is reserved in a PML4E */
	flush_all();
	sdm_only = 1;
	pf(f_read, VA4K(0), 9, "PML4E.PS=1: P | RSVD");
	pml4[1] &= ~PS;
	pd_t[1] |= 1ull << 13; /* 2M page: bits 20:13 of the address are reserved */
	flush_all();
	sdm_only = 1;
	pf(f_read, VA2M, 9, "2M PDE with bit 13 set: P | RSVD");
	pd_t[1] &= ~(1ull << 13);
	flush_all();

	/* SMEP: supervisor fetch from a user page */
	pt_t[5] = (ureg)pages[5] | P | RW | US;
	invlpg(VA4K(5));
	ureg cr4 = read_cr4();
	pml4[0] &= ~US; /* the identity map (our code and data) becomes supervisor */
	flush_all();
	if (has_smep) {
		pf(f_exec, VA4K(5), -1, "CPL0 fetch from user page without SMEP");
		write_cr4(cr4 | (1ul << 20));
		pf(f_exec, VA4K(5), 0x11, "SMEP: CPL0 fetch from user page: P | I/D");
		write_cr4(cr4);
	}
	/* SMAP: supervisor data access to a user page unless EFLAGS.AC */
	if (has_smap) {
		pf(f_read, VA4K(5), -1, "CPL0 read of user page without SMAP");
		write_cr4(cr4 | (1ul << 21));
		pf(f_read, VA4K(5), 1, "SMAP: CPL0 read of user page: P");
		pf(f_write, VA4K(5), 3, "SMAP: CPL0 write of user page: P | W");
		__asm__ volatile("stac");
		check(read_flags() & 0x40000, "stac sets EFLAGS.AC");
		pf(f_read, VA4K(5), -1, "SMAP with STAC: read allowed");
		__asm__ volatile("clac");
		check(!(read_flags() & 0x40000), "clac clears EFLAGS.AC");
		pf(f_read, VA4K(5), 1, "SMAP after CLAC: read faults again");
		write_cr4(cr4);
	}

	pml4[0] |= US;
	flush_all();

	/* not-present from CPL 3: U/S set in the error code */
	pt_t[6] = (ureg)pages[6];
	invlpg(VA4K(6));
	upf(u_read, VA4K(6), 4, "CPL3 read of a not-present page: U");
	upf(u_write, VA4K(6), 6, "CPL3 write of a not-present page: U | W");

	/* protection keys (SDM §4.6.2): PKRU applies to data accesses to user
	 * pages at any CPL; error code bit 5 (PK) */
	cpuid2(7, 0, id);
	if (id[2] >> 3 & 1) {
		pt_t[6] = (ureg)pages[6] | P | RW | US | 1ull << 59; /* key 1 */
		invlpg(VA4K(6));
		write_cr4(cr4 | (1ul << 22));
		cpuid2(7, 0, id);
		check(id[2] >> 4 & 1, "CPUID.7:ECX.OSPKE follows CR4.PKE");
		uint32_t pkru = 1u << 2; /* AD for key 1 */
		__asm__ volatile("wrpkru" ::"a"(pkru), "c"(0), "d"(0));
		uint32_t got, hi;
		__asm__ volatile("rdpkru" : "=a"(got), "=d"(hi) : "c"(0));
		check(got == pkru && hi == 0, "rdpkru = %x", got);
		upf(u_read, VA4K(6), 0x25, "PKRU.AD1: CPL3 read: P | U | PK");
		pf(f_read, VA4K(6), 0x21, "PKRU.AD1: CPL0 read of the user page: P | PK");
		pkru = 1u << 3; /* WD for key 1 */
		__asm__ volatile("wrpkru" ::"a"(pkru), "c"(0), "d"(0));
		upf(u_read, VA4K(6), -1, "PKRU.WD1: CPL3 read allowed");
		upf(u_write, VA4K(6), 0x27, "PKRU.WD1: CPL3 write: P | W | U | PK");
		pf(f_write, VA4K(6), 0x23, "PKRU.WD1: CPL0 write with CR0.WP=1: P | W | PK");
		pt_t[6] &= ~(0xfull << 59); /* key 0 is unrestricted */
		invlpg(VA4K(6));
		upf(u_write, VA4K(6), -1, "key 0: CPL3 write allowed");
		__asm__ volatile("wrpkru" ::"a"(0), "c"(0), "d"(0));
		write_cr4(cr4);
	} else {
		guest_puts("g64_paging: PKU not advertised\n");
	}

	/* accesses crossing from a present page into a faulting one: CR2 is the
	 * start of the second page, RIP the instruction, and nothing is written
	 * (faults are precise); REP STOSB stops with RCX/RDI at the fault */
	pt_t[0] = (ureg)pages[0] | P | RW;
	pt_t[1] = (ureg)pages[1] | RW; /* not present */
	invlpg(VA4K(0));
	invlpg(VA4K(1));
	if (has_nx)
		wrmsr(0xc0000080, rdmsr(0xc0000080) | 0x800);
	pages[0][4095] = 0xff; /* inc %eax = ff c0: the c0 is on the next page */
	addr = VA4K(0) + 4095;
	long fv = trap_run(f_exec);
	check(fv == 14 && trap.err == (has_nx ? 0x10u : 0u) && trap.cr2 == VA4K(1) &&
		      trap.ip == VA4K(0) + 4095,
	      "fetch crossing into a not-present page: vec %d err %lx cr2 %lx rip %lx", (int)fv,
	      trap.err, trap.cr2, trap.ip);
	if (has_nx)
		wrmsr(0xc0000080, rdmsr(0xc0000080) & ~0x800ull);
	xp_addr = VA4K(0) + 4092;
	pf(x_rd8, VA4K(1), 0, "8-byte read crossing into a not-present page");
	check(trap.ip == (ureg)x_rd8_ip, "... RIP = the mov (%lx)", trap.ip);
	pt_t[1] = (ureg)pages[1] | P; /* present, read-only */
	invlpg(VA4K(1));
	*(volatile uint64_t *)(pages[0] + 4088) = 0;
	*(volatile uint64_t *)pages[1] = 0;
	pf(x_wr8, VA4K(1), 3, "8-byte write crossing into a read-only page (WP=1)");
	check(*(volatile uint32_t *)(pages[0] + 4092) == 0 && *(volatile uint32_t *)pages[1] == 0,
	      "faulting split write changed nothing (%x %x)",
	      *(volatile uint32_t *)(pages[0] + 4092), *(volatile uint32_t *)pages[1]);
	xp_addr = VA4K(0) + 4088;
	pf(x_stos, VA4K(1), 3, "rep stosb running into a read-only page");
	check(trap.ip == (ureg)x_stos_ip && trap_regs.rcx == 8 && trap_regs.rdi == VA4K(1),
	      "... stops at the fault: rip %lx rcx %lx rdi %lx", trap.ip, trap_regs.rcx,
	      trap_regs.rdi);
	check(*(volatile uint64_t *)(pages[0] + 4088) == 0x5a5a5a5a5a5a5a5aull &&
		      *(volatile uint64_t *)pages[1] == 0,
	      "... the first 8 bytes were stored, none on the read-only page");
	/* DF=1: from VA4K(1)+7 down into the not-present page 0; CR2 = the byte */
	pt_t[1] = (ureg)pages[1] | P | RW;
	pt_t[0] = (ureg)pages[0] | RW; /* not present */
	invlpg(VA4K(0));
	invlpg(VA4K(1));
	xp_addr = VA4K(1) + 7;
	pf(x_stosd, VA4K(0) + 4095, 2, "rep stosb with DF=1 running into a not-present page");
	check(trap_regs.rcx == 8 && trap_regs.rdi == VA4K(0) + 4095 && (trap.flags & 0x400),
	      "... rcx %lx rdi %lx, DF still set in the frame", trap_regs.rcx, trap_regs.rdi);
	__asm__ volatile("cld");
	/* a split read whose FIRST page is missing: CR2 = the operand address */
	xp_addr = VA4K(0) + 4092;
	pf(x_rd8, VA4K(0) + 4092, 0, "8-byte read, first page not present");
	pt_t[0] = (ureg)pages[0] | P | RW;
	invlpg(VA4K(0));
	/* a write that faults must not set D; CMPXCHG writes even when the
	 * compare fails, so it faults on a read-only page (SDM CMPXCHG) */
	pt_t[1] = (ureg)pages[1] | P | A; /* read-only, D clear */
	invlpg(VA4K(1));
	*(volatile uint32_t *)pages[1] = 0x9999;
	xp_addr = VA4K(1);
	pf(x_cmpxchg, VA4K(1), 3, "cmpxchg (compare fails) on a read-only page");
	check(trap.ip == (ureg)x_cmpxchg_ip && !(pt_t[1] & D) &&
		      *(volatile uint32_t *)pages[1] == 0x9999,
	      "... at the cmpxchg, D not set (pte %lx), memory unchanged", pt_t[1]);
	pt_t[1] = (ureg)pages[1] | P | RW;
	invlpg(VA4K(1));

	/* INVLPG: a changed PTE is used after INVLPG (the stale one may be
	 * used before it; that is allowed, not required, so only reported) */
	*(volatile uint64_t *)pages[0] = 0xaaaa;
	*(volatile uint64_t *)pages[1] = 0xbbbb;
	pt_t[0] = (ureg)pages[0] | P | RW;
	invlpg(VA4K(0));
	(void)*(volatile uint64_t *)VA4K(0);
	pt_t[0] = (ureg)pages[1] | P | RW;
	uint64_t stale = *(volatile uint64_t *)VA4K(0);
	invlpg(VA4K(0));
	uint64_t fresh = *(volatile uint64_t *)VA4K(0);
	guest_printf("g64_paging: before INVLPG the CPU saw %s translation\n",
		     stale == 0xaaaa ? "the stale" : "the new");
	check(fresh == 0xbbbb, "after INVLPG the new translation is used (%lx)", fresh);

	/* global pages survive a CR3 write (may), are flushed by CR4.PGE toggle (must) */
	if (has_pge) {
		write_cr4(cr4 | 0x80);
		pt_t[0] = (ureg)pages[0] | P | RW | G;
		invlpg(VA4K(0));
		(void)*(volatile uint64_t *)VA4K(0);
		pt_t[0] = (ureg)pages[1] | P | RW | G;
		flush_all();
		stale = *(volatile uint64_t *)VA4K(0);
		guest_printf("g64_paging: global page after CR3 write: %s\n",
			     stale == 0xaaaa ? "kept (stale)" : "refetched");
		write_cr4(cr4 & ~0x80ul);
		write_cr4(cr4 | 0x80);
		fresh = *(volatile uint64_t *)VA4K(0);
		check(fresh == 0xbbbb, "CR4.PGE toggle flushes global pages (%lx)", fresh);
		write_cr4(cr4);
	}

	/* PCID */
	if (has_pcid) {
		ureg cr3 = read_cr3();
		xcr4 = cr4 | (1ul << 17);
		write_cr3(cr3 | 5);
		long v = trap_run(f_cr4);
		check(v == 13 && trap.err == 0, "setting CR4.PCIDE with CR3[11:0] != 0: vec %d",
		      (int)v);
		write_cr3(cr3);
		v = trap_run(f_cr4);
		check(v == -1, "setting CR4.PCIDE with PCID 0: vec %d", (int)v);
		write_cr3(cr3 | 7 | (1ul << 63)); /* no flush, PCID 7 */
		check(read_cr3() == (cr3 | 7), "CR3 with PCID 7 reads back %lx (bit 63 not stored)",
		      read_cr3());
		check(*(volatile uint64_t *)VA4K(0) == 0xbbbb, "translation under PCID 7");
		write_cr3(cr3);
		write_cr4(cr4);
	}

	/* INVPCID (SDM Vol. 2 INVPCID): operand checks, then type 2 flushing a
	 * global translation. Not advertised by QEMU 7.2 TCG, so these run on
	 * nestbox only. */
	if (has_invpcid) {
		long v = invpcid(4, 0, 0);
		check(v == 13 && trap.err == 0, "invpcid type 4 -> #GP(0) (vec %d)", (int)v);
		v = invpcid(0, 1ull << 12, VA4K(0));
		check(v == 13 && trap.err == 0, "invpcid descriptor bit 12 -> #GP(0) (vec %d)",
		      (int)v);
		v = invpcid(0, 0, 0x0000800000000000ull);
		check(v == 13 && trap.err == 0, "invpcid type 0, non-canonical -> #GP(0) (vec %d)",
		      (int)v);
		v = invpcid(1, 3, 0);
		check(v == 13 && trap.err == 0,
		      "invpcid type 1, PCID 3 with PCIDE=0 -> #GP(0) (vec %d)", (int)v);
		v = invpcid(2, 3, 0);
		check(v == -1, "invpcid type 2 ignores the PCID field (vec %d)", (int)v);
		v = invpcid(0, 0, VA4K(0));
		check(v == -1, "invpcid type 0, PCID 0 (vec %d)", (int)v);
		v = trap_run_user(u_invpcid, SEL_UCODE64, SEL_UDATA);
		check(v == 13 && trap.err == 0, "invpcid at CPL3 -> #GP(0) (vec %d)", (int)v);
		if (has_pge) {
			write_cr4(cr4 | 0x80);
			pt_t[0] = (ureg)pages[0] | P | RW | G;
			invlpg(VA4K(0));
			(void)*(volatile uint64_t *)VA4K(0);
			pt_t[0] = (ureg)pages[1] | P | RW | G;
			v = invpcid(2, 0, 0);
			check(v == -1 && *(volatile uint64_t *)VA4K(0) == 0xbbbb,
			      "invpcid type 2 flushed the global translation");
			/* (type 0 keeps global translations: nothing to check) */
			pt_t[0] = (ureg)pages[0] | P | RW;
			write_cr4(cr4);
		}
	}

	/* a #PF while pushing the frame: TSS.RSP0 points into a not-present
	 * page. The implicit stack write is a supervisor write (err 2), the
	 * saved RIP is the INT3 (the delivery faulted). #PF on IST1 works;
	 * with #PF on RSP0 too, the second #PF becomes #DF(0) (on IST1). */
	pt_t[6] = (ureg)pages[6] | RW; /* not present */
	invlpg(VA4K(6));
	ureg rsp0 = tss.rsp[0];
	tss.rsp[0] = VA4K(6) + 4096;
	idt_set(14, isr_table[14], SEL_CODE64, GATE_INT, 0, 1);
	long v = trap_run_user(u_int3, SEL_UCODE64, SEL_UDATA);
	/* Which frame slot faults first is not architectural; the SDM pseudo-code
	 * pushes SS first (CR2 = RSP0 - 8, as QEMU reports): accept the frame. */
	if (trap.cr2 != VA4K(6) + 4096 - 8)
		guest_printf("g64_paging: note: CR2 %lx, not the SS slot %lx\n", trap.cr2,
			     VA4K(6) + 4096 - 8);
	check(v == 14 && trap.err == 2 && trap.cr2 >= VA4K(6) + 4096 - 40 &&
		      trap.cr2 <= VA4K(6) + 4096 - 8 && trap.ip == (ureg)u_int3_ip &&
		      trap.cs == SEL_UCODE64,
	      "#PF pushing the int3 frame: vec %d err %lx cr2 %lx rip %lx cs %lx", (int)v, trap.err,
	      trap.cr2, trap.ip, trap.cs);
	idt_reset(14);
	idt_set(8, isr_table[8], SEL_CODE64, GATE_INT, 0, 1);
	v = trap_run_user(u_int3, SEL_UCODE64, SEL_UDATA);
	check(v == 8 && trap.err == 0 && trap.frame == (ureg)ist_stack_top - 40,
	      "#PF delivering #PF -> #DF(0) on IST1: vec %d err %lx", (int)v, trap.err);
	idt_reset(8);
	tss.rsp[0] = rsp0;

	/* CR4.LA57 can only change outside IA-32e mode, and is reserved if not
	 * advertised: #GP(0) either way. (QEMU 7.2 TCG loops in an SVM #VMEXIT
	 * path on a reserved CR4 bit, so the unadvertised case is skipped there.) */
	if (has_la57 || !on_qemu_tcg()) {
		xcr4 = cr4 | (1ul << 12);
		v = trap_run(f_cr4);
		check(v == 13 && trap.err == 0 && read_cr4() == cr4,
		      "setting CR4.LA57 in long mode: vec %d", (int)v);
	}
	if (!has_la57)
		guest_puts("g64_paging: LA57 not advertised, 5-level paging skipped\n");
	return report("g64_paging");
}
