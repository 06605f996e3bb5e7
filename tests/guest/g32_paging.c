/*
 * g32_paging — the two paging modes of 32-bit protected mode (SDM Vol. 3
 * §4.3 and §4.4): 32-bit paging with 4K and 4M (CR4.PSE) pages, and PAE
 * paging with PDPTEs, 4K and 2M pages and NX. Checks A/D bits, #PF error
 * codes and CR2 (not present, read-only with CR0.WP, user/supervisor from
 * CPL3, reserved bits, NX fetch), INVLPG, and PDPTE checks on MOV CR3.
 * Both modes identity-map all 4 GiB; the test pages sit at 1 GiB.
 */
#include "trap.h"

#define BASE    0x40000000u
#define VA4K(i) (BASE + (uint32_t)(i)*4096)
#define VABIG   (BASE + 0x400000u) /* 4M page (32-bit) / PAE: 2M page at BASE+2M */
#define VAPAE2M (BASE + 0x200000u)

#define P  1u
#define RW 2u
#define US 4u
#define A  0x20u
#define D  0x40u
#define PS 0x80u

static volatile uint32_t pd32[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt32[1024] __attribute__((aligned(4096)));
static volatile uint64_t pdpt[4] __attribute__((aligned(32)));
static volatile uint64_t pae_pd[4][512] __attribute__((aligned(4096)));
static volatile uint64_t pae_pt[512] __attribute__((aligned(4096)));
static uint8_t pages[8][4096] __attribute__((aligned(4096)));

static volatile uint32_t addr, val;
static void f_read(void)
{
	val = *(volatile uint32_t *)addr;
}
static void f_write(void)
{
	*(volatile uint32_t *)addr = val;
}
static void f_exec(void)
{
	((void (*)(void))addr)();
}
static void u_read(void)
{
	val = *(volatile uint32_t *)addr;
}
static void u_write(void)
{
	*(volatile uint32_t *)addr = val;
}
static void invlpg(uint32_t a)
{
	__asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
}

static int sdm_only;
static void pf(void (*fn)(void), uint32_t a, long err, int user, const char *what)
{
	addr = a;
	long v = user ? trap_run_user(fn, SEL_UCODE32, SEL_UDATA) : trap_run(fn);
	long none = user ? VEC_USER_EXIT : -1;
	int ok = err < 0 ? v == none : v == 14 && trap.err == (ureg)err && trap.cr2 == a;
	int sdm = sdm_only;
	sdm_only = 0;
	if (sdm)
		check_sdm(ok, "%s: vector %d err %x cr2 %x (want err %x)", what, (int)v,
			  (unsigned)trap.err, (unsigned)trap.cr2, (unsigned)err);
	else
		check(ok, "%s: vector %d err %x cr2 %x (want err %x)", what, (int)v,
		      (unsigned)trap.err, (unsigned)trap.cr2, (unsigned)err);
}

static volatile ureg xcr3;
static void f_cr3(void)
{
	write_cr3(xcr3);
}

static void paging_off(void)
{
	write_cr0(read_cr0() & ~0x80010000ul);
}

static void test_32bit(void)
{
	for (unsigned i = 0; i < 1024; i++)
		pd32[i] = i << 22 | P | RW | US | PS;
	pd32[BASE >> 22] = (uint32_t)pt32 | P | RW | US;
	pd32[VABIG >> 22] = 0x800000 | P | RW | US | PS;
	for (int i = 0; i < 8; i++)
		pt32[i] = (uint32_t)pages[i] | P | RW;
	write_cr4(read_cr4() | 0x10); /* PSE */
	write_cr3((ureg)pd32);
	write_cr0(read_cr0() | 0x80000000);
	check(read_cr0() & 0x80000000, "32-bit paging on");

	*(volatile uint32_t *)pages[0] = 0x11223344;
	check(*(volatile uint32_t *)VA4K(0) == 0x11223344, "32-bit: read through 4K page");
	check((pt32[0] & (A | D)) == A && (pd32[BASE >> 22] & A), "32-bit: A bits pte %x pde %x",
	      pt32[0], pd32[BASE >> 22]);
	*(volatile uint32_t *)VA4K(1) = 5;
	check(*(volatile uint32_t *)pages[1] == 5 && (pt32[1] & D), "32-bit: write sets D (%x)",
	      pt32[1]);
	*(volatile uint32_t *)(VABIG + 0x3ffffc) = 0xabcd;
	check(*(volatile uint32_t *)(0x800000 + 0x3ffffc) == 0xabcd,
	      "32-bit: write through 4M page");
	check((pd32[VABIG >> 22] & (A | D)) == (A | D), "32-bit: 4M page A/D (%x)",
	      pd32[VABIG >> 22]);

	pt32[2] = (uint32_t)pages[2];
	invlpg(VA4K(2));
	pf(f_read, VA4K(2) + 4, 0, 0, "32-bit: read not present");
	pf(f_write, VA4K(2) + 8, 2, 0, "32-bit: write not present");
	pt32[3] = (uint32_t)pages[3] | P;
	invlpg(VA4K(3));
	pf(f_write, VA4K(3), -1, 0, "32-bit: CPL0 write to read-only with WP=0");
	write_cr0(read_cr0() | 0x10000);
	pf(f_write, VA4K(3), 3, 0, "32-bit: CPL0 write to read-only with WP=1");
	pt32[4] = (uint32_t)pages[4] | P | RW;
	invlpg(VA4K(4));
	pf(u_read, VA4K(4), 5, 1, "32-bit: CPL3 read of supervisor page");
	pf(u_write, VA4K(4), 7, 1, "32-bit: CPL3 write of supervisor page");
	pt32[4] |= US;
	invlpg(VA4K(4));
	pf(u_read, VA4K(4), -1, 1, "32-bit: CPL3 read of user page");
	pt32[4] &= ~RW;
	invlpg(VA4K(4));
	pf(u_write, VA4K(4), 7, 1, "32-bit: CPL3 write of read-only user page");
	/* 4M PDE: bit 21 is reserved (bits 20:13 hold address bits 39:32 with
	 * PSE-36 and MAXPHYADDR 40); QEMU 7.2 TCG reports RSVD without P. */
	pd32[VABIG >> 22] |= 1u << 21;
	invlpg(VABIG);
	sdm_only = 1;
	pf(f_read, VABIG, 9, 0, "32-bit: 4M PDE reserved bit 21: P | RSVD");
	pd32[VABIG >> 22] &= ~(1u << 21);
	invlpg(VABIG);
	/* INVLPG makes a changed PTE visible */
	*(volatile uint32_t *)pages[5] = 0x5555;
	*(volatile uint32_t *)pages[6] = 0x6666;
	pt32[5] = (uint32_t)pages[5] | P | RW;
	invlpg(VA4K(5));
	(void)*(volatile uint32_t *)VA4K(5);
	pt32[5] = (uint32_t)pages[6] | P | RW;
	invlpg(VA4K(5));
	check(*(volatile uint32_t *)VA4K(5) == 0x6666, "32-bit: INVLPG picks up the new PTE");
	paging_off();
	write_cr4(read_cr4() & ~0x10ul);
	check(*(volatile uint32_t *)pages[0] == 0x11223344, "paging off again");
}

static void test_pae(int has_nx)
{
	for (int i = 0; i < 4; i++) {
		pdpt[i] = (ureg)pae_pd[i] | P;
		for (int j = 0; j < 512; j++)
			pae_pd[i][j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | P | RW | US | PS;
	}
	pae_pd[1][0] = (ureg)pae_pt | P | RW | US;
	pae_pd[1][1] = 0x800000 | P | RW | US | PS;
	for (int i = 0; i < 8; i++)
		pae_pt[i] = (ureg)pages[i] | P | RW;
	write_cr4(read_cr4() | 0x20);
	write_cr3((ureg)pdpt);
	write_cr0(read_cr0() | 0x80000000);
	check((read_cr0() & 0x80000000) && (read_cr4() & 0x20), "PAE paging on");

	*(volatile uint32_t *)pages[0] = 0x77;
	check(*(volatile uint32_t *)VA4K(0) == 0x77 && (pae_pt[0] & A), "PAE: read through 4K");
	*(volatile uint32_t *)(VAPAE2M + 0x10) = 0x99;
	check(*(volatile uint32_t *)(0x800000 + 0x10) == 0x99 &&
		      (pae_pd[1][1] & (A | D)) == (A | D),
	      "PAE: write through 2M page (pde %lx)", (unsigned long long)pae_pd[1][1]);
	pae_pt[2] = (ureg)pages[2];
	invlpg(VA4K(2));
	pf(f_write, VA4K(2), 2, 0, "PAE: write not present");
	pae_pt[3] = (ureg)pages[3] | P;
	invlpg(VA4K(3));
	write_cr0(read_cr0() | 0x10000);
	pf(f_write, VA4K(3), 3, 0, "PAE: write to read-only with WP=1");
	pae_pt[4] = (ureg)pages[4] | P | RW;
	invlpg(VA4K(4));
	pf(u_write, VA4K(4), 7, 1, "PAE: CPL3 write of supervisor page");
	/* 2M PDE: bits 20:13 reserved */
	pae_pd[1][1] |= 1u << 13;
	invlpg(VAPAE2M);
	sdm_only = 1;
	pf(f_read, VAPAE2M, 9, 0, "PAE: 2M PDE bit 13 reserved: P | RSVD");
	pae_pd[1][1] &= ~(1ull << 13);
	invlpg(VAPAE2M);
	if (has_nx) {
		pages[5][0] = 0xc3;
		pae_pt[5] = (ureg)pages[5] | P | RW | (1ull << 63);
		invlpg(VA4K(5));
		sdm_only = 1;
		pf(f_read, VA4K(5), 9, 0, "PAE: XD with EFER.NXE=0 is reserved: P | RSVD");
		wrmsr(0xc0000080, rdmsr(0xc0000080) | 0x800);
		invlpg(VA4K(5));
		pf(f_read, VA4K(5), -1, 0, "PAE: read of XD page");
		pf(f_exec, VA4K(5), 0x11, 0, "PAE: fetch from XD page: P | I/D");
		pae_pt[5] &= ~(1ull << 63);
		invlpg(VA4K(5));
		pf(f_exec, VA4K(5), -1, 0, "PAE: fetch after clearing XD");
		wrmsr(0xc0000080, rdmsr(0xc0000080) & ~0x800ull);
	}
	/* PDPTEs are loaded by MOV CR3 in PAE mode: a reserved bit (R/W is
	 * reserved in a PDPTE) makes the MOV fault with #GP(0) (SDM §4.4.1).
	 * QEMU 7.2 TCG does not load PDPTEs on MOV CR3. */
	pdpt[3] |= RW;
	xcr3 = (ureg)pdpt;
	long v = trap_run(f_cr3);
	check_sdm(v == 13 && trap.err == 0, "PAE: MOV CR3 with a reserved PDPTE bit: vec %d",
		  (int)v);
	pdpt[3] &= ~(uint64_t)RW;
	write_cr3((ureg)pdpt);
	paging_off();
	write_cr4(read_cr4() & ~0x20ul);
}

int guest_main(void)
{
	trap_init();
	uint32_t id[4];
	cpuid2(0x80000001, 0, id);
	int has_nx = id[3] >> 20 & 1;
	test_32bit();
	test_pae(has_nx);
	return report("g32_paging");
}
