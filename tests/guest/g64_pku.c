/*
 * g64_pku — protection keys (SDM Vol. 3 §4.6.2) beyond the basics that
 * g64_paging checks: RDPKRU/WRPKRU #UD/#GP rules, CPUID.7:ECX.OSPKE, keys in
 * 2M leaves (and ignored in non-leaf entries), instruction fetches never
 * checked, CR0.WP and PKRU.WD, the soft TLB re-checking rights after WRPKRU
 * and XRSTOR without any INVLPG, the PKRU XSAVE state component (XCR0 bit 9,
 * CPUID.(0Dh,9), standard offset 2688, compacted offset 576, init value 0),
 * and supervisor keys (CR4.PKS, IA32_PKRS) when the model has PKS.
 * The test mappings live at 512 GiB (PML4[1]), as in g64_paging.
 */
#include "trap.h"

#define BASE    0x8000000000ul
#define VA4K(i) (BASE + (ureg)(i)*4096)
#define VA2M    (BASE + 0x200000ul)

#define P         1ull
#define RW        2ull
#define US        4ull
#define PS        0x80ull
#define KEY(k)    ((uint64_t)(k) << 59)
#define CR0_WP    (1ul << 16)
#define CR4_OSXS  (1ul << 18)
#define CR4_PKE   (1ul << 22)
#define CR4_PKS   (1ul << 24)
#define PFEC_PK   0x20
#define MSR_PKRS  0x6e1
#define AD(k)     (1u << (2 * (k)))
#define WD(k)     (2u << (2 * (k)))
#define XCR0_PKRU (1ull << 9)

extern volatile uint64_t pml4[];
static volatile uint64_t pdpt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_t[512] __attribute__((aligned(4096)));
static uint8_t pages[4][4096] __attribute__((aligned(4096)));
static uint8_t xarea[4096] __attribute__((aligned(64)));

static volatile ureg addr, val, rcx, rdx, rax;
static void f_read(void)
{
	val = *(volatile uint64_t *)addr;
}
static void f_write(void)
{
	*(volatile uint64_t *)addr = val;
}
static void f_call(void)
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
static void f_rdpkru(void)
{
	uint32_t a, d;
	__asm__ volatile("rdpkru" : "=a"(a), "=d"(d) : "c"((uint32_t)rcx));
	rax = a;
	rdx = d;
}
static void f_wrpkru(void)
{
	__asm__ volatile("wrpkru" ::"a"((uint32_t)rax), "c"((uint32_t)rcx), "d"((uint32_t)rdx)
			 : "memory");
}
static void f_wrmsr(void)
{
	wrmsr((uint32_t)rcx, rax);
}
static void f_rdmsr(void)
{
	rax = rdmsr((uint32_t)rcx);
}

static void wrpkru(uint32_t v)
{
	__asm__ volatile("wrpkru" ::"a"(v), "c"(0), "d"(0) : "memory");
}
static uint32_t rdpkru(void)
{
	uint32_t a, d;
	__asm__ volatile("rdpkru" : "=a"(a), "=d"(d) : "c"(0));
	return a;
}
static void invlpg(ureg a)
{
	__asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
}
static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" ::"a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(0));
}
static void xsave(void *p, uint64_t rfbm)
{
	__asm__ volatile("xsave64 (%0)" ::"r"(p), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}
static void xsavec(void *p, uint64_t rfbm)
{
	__asm__ volatile("xsavec64 (%0)" ::"r"(p), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}
static void xrstor(void *p, uint64_t rfbm)
{
	__asm__ volatile("xrstor64 (%0)" ::"r"(p), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

/* One access; expects #PF with err and CR2 = a, or no fault (err < 0). */
static void pf(void (*fn)(void), ureg a, long err, const char *what)
{
	addr = a;
	long v = trap_run(fn);
	if (err < 0)
		check(v == -1, "%s: unexpected vector %d err %lx", what, (int)v, trap.err);
	else
		check(v == 14 && trap.err == (ureg)err && trap.cr2 == a,
		      "%s: vector %d err %lx cr2 %lx (want #PF err %lx)", what, (int)v, trap.err,
		      trap.cr2, (ureg)err);
}
static void upf(void (*fn)(void), ureg a, long err, const char *what)
{
	addr = a;
	long v = trap_run_user(fn, SEL_UCODE64, SEL_UDATA);
	if (err < 0)
		check(v == VEC_USER_EXIT, "%s: unexpected vector %d err %lx", what, (int)v,
		      trap.err);
	else
		check(v == 14 && trap.err == (ureg)err && trap.cr2 == a,
		      "%s: vector %d err %lx cr2 %lx (want #PF err %lx)", what, (int)v, trap.err,
		      trap.cr2, (ureg)err);
}

static void test_insns(ureg cr4)
{
	uint32_t id[4];
	long v;

	/* CR4.PKE = 0: RDPKRU/WRPKRU are #UD, OSPKE reads 0. */
	write_cr4(cr4 & ~CR4_PKE);
	cpuid2(7, 0, id);
	check(!(id[2] >> 4 & 1), "OSPKE clear while CR4.PKE = 0");
	rcx = 0;
	v = trap_run(f_rdpkru);
	check(v == 6, "RDPKRU with CR4.PKE = 0: vector %d (want #UD)", (int)v);
	rax = rdx = 0;
	v = trap_run(f_wrpkru);
	check(v == 6, "WRPKRU with CR4.PKE = 0: vector %d (want #UD)", (int)v);
	write_cr4(cr4 | CR4_PKE);
	cpuid2(7, 0, id);
	check(id[2] >> 4 & 1, "OSPKE set with CR4.PKE = 1");

	/* #GP(0) on nonzero ECX (RDPKRU) or ECX/EDX (WRPKRU). */
	rcx = 1;
	v = trap_run(f_rdpkru);
	check(v == 13 && trap.err == 0, "RDPKRU ECX=1: vector %d (#GP)", (int)v);
	rcx = 0;
	rdx = 1;
	rax = 0x12;
	v = trap_run(f_wrpkru);
	check(v == 13 && trap.err == 0, "WRPKRU EDX=1: vector %d (#GP)", (int)v);
	rdx = 0;
	rcx = 2;
	v = trap_run(f_wrpkru);
	check(v == 13, "WRPKRU ECX=2: vector %d (#GP)", (int)v);
	check(rdpkru() == 0, "a faulting WRPKRU leaves PKRU alone (%x)", rdpkru());
	/* The upper halves of RCX/RDX/RAX are ignored; RDPKRU clears RDX. */
	rcx = 0;
	rdx = 0xffffffff00000000ul;
	rax = 0x5555000cul | 0xabcd00000000ul;
	__asm__ volatile("wrpkru" ::"a"(rax), "c"(0xffffffff00000000ul), "d"(rdx) : "memory");
	uint64_t a64, d64;
	__asm__ volatile("mov $-1, %%rdx\n rdpkru" : "=a"(a64), "=d"(d64) : "c"(0));
	check(a64 == 0x5555000c && d64 == 0, "RDPKRU after WRPKRU: rax %lx rdx %lx", a64, d64);
	wrpkru(0);
}

static void test_rights(void)
{
	ureg cr0 = read_cr0() | CR0_WP;
	write_cr0(cr0);
	/* page 0: user, key 1; page 1: user, key 0 */
	val = 5;
	pf(f_write, VA4K(0), -1, "CPL0 write of the key-1 user page, PKRU = 0");
	pf(f_read, VA4K(0), -1, "CPL0 read of it (both now in the soft TLB)");
	upf(u_read, VA4K(0), -1, "CPL3 read of it");

	/* No INVLPG anywhere below: WRPKRU alone must take effect. */
	wrpkru(AD(1));
	pf(f_read, VA4K(0), P | PFEC_PK, "AD1 after WRPKRU: CPL0 read: P | PK");
	pf(f_write, VA4K(0), P | RW | PFEC_PK, "AD1: CPL0 write: P | W | PK");
	upf(u_read, VA4K(0), P | US | PFEC_PK, "AD1: CPL3 read: P | U | PK");
	pf(f_read, VA4K(1), -1, "AD1 does not touch key 0");
	write_cr0(cr0 & ~CR0_WP);
	pf(f_read, VA4K(0), P | PFEC_PK, "AD1 with CR0.WP = 0: CPL0 read still refused");
	pf(f_write, VA4K(0), P | RW | PFEC_PK, "AD1 with CR0.WP = 0: CPL0 write refused");
	write_cr0(cr0);

	/* instruction fetches are not subject to protection keys */
	pages[0][64] = 0xc3; /* ret */
	pf(f_call, VA4K(0) + 64, -1, "AD1: CPL0 fetch from the key-1 page is allowed");

	wrpkru(WD(1));
	pf(f_read, VA4K(0), -1, "WD1: CPL0 read allowed");
	pf(f_write, VA4K(0), P | RW | PFEC_PK, "WD1, CR0.WP = 1: CPL0 write: P | W | PK");
	upf(u_write, VA4K(0), P | RW | US | PFEC_PK, "WD1: CPL3 write: P | W | U | PK");
	write_cr0(cr0 & ~CR0_WP);
	val = 77;
	pf(f_write, VA4K(0), -1, "WD1, CR0.WP = 0: CPL0 write allowed");
	check(*(volatile uint64_t *)pages[0] == 77, "and it wrote");
	upf(u_write, VA4K(0), P | RW | US | PFEC_PK, "WD1, CR0.WP = 0: CPL3 write refused");
	write_cr0(cr0);

	/* PK together with a R/W violation: both reported (P | W | U | PK) */
	pt_t[0] &= ~RW;
	invlpg(VA4K(0));
	upf(u_write, VA4K(0), P | RW | US | PFEC_PK, "WD1 on a read-only page: P | W | U | PK");
	wrpkru(0);
	upf(u_write, VA4K(0), P | RW | US, "read-only page, PKRU = 0: P | W | U");
	pt_t[0] |= RW;
	invlpg(VA4K(0));

	/* key of a 2M leaf; keys in non-leaf entries are ignored */
	pf(f_read, VA2M + 0x1008, -1, "2M key-3 page with PKRU = 0");
	wrpkru(AD(3));
	pf(f_read, VA2M + 0x1008, P | PFEC_PK, "2M key-3 page with AD3: P | PK");
	wrpkru(AD(15));
	pf(f_read, VA4K(1), -1, "key 15 in the PDE (non-leaf) is ignored");
	wrpkru(0);

	/* Supervisor pages are not subject to PKRU (key 0 stays open: the
	 * boot identity map, stack included, is user-mode with key 0). */
	wrpkru(~3u);
	pf(f_read, VA4K(2), -1, "PKRU = AD/WD for keys 1-15: supervisor key-2 page readable");
	pf(f_write, VA4K(2), -1, "and writable");
	wrpkru(0);
}

static void test_xsave(void)
{
	uint32_t id[4];
	cpuid2(1, 0, id);
	if (!(id[2] >> 26 & 1)) {
		guest_puts("g64_pku: no XSAVE, component 9 skipped\n");
		return;
	}
	cpuid2(0xd, 0, id);
	check(id[0] & XCR0_PKRU, "CPUID.(0Dh,0).EAX has PKRU (bit 9): %x", id[0]);
	check(id[2] == 2696, "CPUID.(0Dh,0).ECX = 2696 (all components): %u", id[2]);
	cpuid2(0xd, 9, id);
	check(id[0] == 8 && id[1] == 2688 && id[2] == 0,
	      "CPUID.(0Dh,9) = size 8, offset 2688, user state: %u %u %x", id[0], id[1], id[2]);

	write_cr4(read_cr4() | CR4_OSXS);
	xsetbv0(0x3 | XCR0_PKRU);
	cpuid2(0xd, 0, id);
	check(id[1] == 2696, "CPUID.(0Dh,0).EBX = 2696 with XCR0[9]: %u", id[1]);
	cpuid2(0xd, 1, id);
	int has_xsavec = id[0] >> 1 & 1;

	/* XSAVE stores PKRU at 2688. */
	wrpkru(0x12345678u & ~3u);
	for (unsigned i = 0; i < sizeof(xarea); i++)
		xarea[i] = 0xee;
	for (int i = 512; i < 576; i++)
		xarea[i] = 0;
	xsave(xarea, XCR0_PKRU);
	uint32_t got = *(volatile uint32_t *)(xarea + 2688);
	check(got == (0x12345678u & ~3u), "XSAVE wrote PKRU at 2688: %x", got);
	check(*(volatile uint64_t *)(xarea + 512) & XCR0_PKRU, "XSTATE_BV[9] set");
	check(xarea[500] == 0xee, "XSAVE of component 9 alone leaves the legacy region");

	/* XRSTOR loads it, and the TLB follows (no INVLPG). */
	pf(f_read, VA4K(0), -1, "key-1 page readable before XRSTOR");
	*(volatile uint32_t *)(xarea + 2688) = AD(1);
	xrstor(xarea, XCR0_PKRU);
	check(rdpkru() == AD(1), "XRSTOR loaded PKRU: %x", rdpkru());
	pf(f_read, VA4K(0), P | PFEC_PK, "after XRSTOR (AD1): CPL0 read: P | PK");
	/* XSTATE_BV[9] = 0: PKRU gets its initial value 0. */
	*(volatile uint64_t *)(xarea + 512) &= ~XCR0_PKRU;
	xrstor(xarea, XCR0_PKRU);
	check(rdpkru() == 0, "XRSTOR with XSTATE_BV[9] = 0 initialises PKRU: %x", rdpkru());
	pf(f_read, VA4K(0), -1, "and the page is readable again");
	/* RFBM without bit 9: PKRU untouched. */
	wrpkru(WD(2));
	xsave(xarea, 0x3 | XCR0_PKRU);
	*(volatile uint32_t *)(xarea + 2688) = AD(5);
	xrstor(xarea, 0x3);
	check(rdpkru() == WD(2), "XRSTOR without RFBM[9] keeps PKRU: %x", rdpkru());

	if (has_xsavec) {
		for (unsigned i = 0; i < sizeof(xarea); i++)
			xarea[i] = i >= 512 && i < 576 ? 0 : 0xee;
		xsavec(xarea, 0x3 | XCR0_PKRU);
		got = *(volatile uint32_t *)(xarea + 576);
		uint64_t xcomp = *(volatile uint64_t *)(xarea + 520);
		check(got == WD(2), "XSAVEC put PKRU right after the header (576): %x", got);
		check(xcomp == (1ull << 63 | 0x3 | XCR0_PKRU), "XCOMP_BV %lx", xcomp);
		wrpkru(0);
		xrstor(xarea, 0x3 | XCR0_PKRU);
		check(rdpkru() == WD(2), "XRSTOR (compacted) reloaded PKRU: %x", rdpkru());
	}
	wrpkru(0);
	xsetbv0(0x3);
}

static void test_pks(ureg cr4)
{
	long v;
	ureg cr0 = read_cr0() | CR0_WP;
	write_cr0(cr0);
	rcx = MSR_PKRS;
	write_cr4(cr4 | CR4_PKS);
	check(read_cr4() & CR4_PKS, "CR4.PKS settable");
	check(rdmsr(MSR_PKRS) == 0, "IA32_PKRS resets to 0");
	rax = 1ull << 32;
	v = trap_run(f_wrmsr);
	check(v == 13, "IA32_PKRS bit 32 reserved: vector %d (#GP)", (int)v);

	/* page 2: supervisor, key 2 (already in the soft TLB) */
	val = 9;
	pf(f_write, VA4K(2), -1, "supervisor key-2 page writable with PKRS = 0");
	wrmsr(MSR_PKRS, AD(2));
	v = trap_run(f_rdmsr);
	check(v == -1 && rax == AD(2), "RDMSR IA32_PKRS = %lx", rax);
	pf(f_read, VA4K(2), P | PFEC_PK, "PKRS.AD2: CPL0 read: P | PK");
	pf(f_read, VA4K(0), -1, "PKRS does not apply to user pages");
	wrmsr(MSR_PKRS, WD(2));
	pf(f_read, VA4K(2), -1, "PKRS.WD2: read allowed");
	pf(f_write, VA4K(2), P | RW | PFEC_PK, "PKRS.WD2, CR0.WP = 1: write: P | W | PK");
	write_cr0(cr0 & ~CR0_WP);
	pf(f_write, VA4K(2), -1, "PKRS.WD2, CR0.WP = 0: write allowed");
	write_cr0(cr0);
	write_cr4(read_cr4() & ~CR4_PKS);
	pf(f_write, VA4K(2), -1, "CR4.PKS = 0: PKRS ignored");
	wrmsr(MSR_PKRS, 0);
}

int guest_main(void)
{
	trap_init();
	uint32_t id[4];
	cpuid2(7, 0, id);
	/* Run with -cpu max (nestbox or QEMU), which has PKU. */
	check(id[2] >> 3 & 1, "CPUID.7:ECX.PKU set (-cpu max)");
	if (!(id[2] >> 3 & 1))
		return report("g64_pku");
	int has_pks = id[2] >> 31 & 1;

	pml4[1] = (ureg)pdpt_t | P | RW | US;
	pdpt_t[0] = (ureg)pd_t | P | RW | US;
	pd_t[0] = (ureg)pt_t | P | RW | US | KEY(15); /* ignored: not a leaf */
	pt_t[0] = (ureg)pages[0] | P | RW | US | KEY(1);
	pt_t[1] = (ureg)pages[1] | P | RW | US;
	pt_t[2] = (ureg)pages[2] | P | RW | KEY(2); /* supervisor */
	pd_t[1] = 0x800000 | P | RW | US | PS | KEY(3);
	write_cr3(read_cr3());

	ureg cr4 = read_cr4();
	test_insns(cr4);
	test_rights();
	test_xsave();
	if (has_pks)
		test_pks(read_cr4());
	else
		guest_puts("g64_pku: no PKS\n");
	write_cr4(cr4);
	return report("g64_pku");
}
