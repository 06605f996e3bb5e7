/*
 * g32_segments — descriptor-table instructions and segmentation rules in
 * 32-bit protected mode (SDM Vol. 3 chapter 3 and §5.1-5.6, Vol. 2):
 * LAR/LSL/VERR/VERW on every kind of descriptor (ZF and values), ARPL, the
 * accessed bit written back by a segment load, segment bases, expand-down
 * and read-only data segments, an LDT (LLDT/SLDT, TI=1 selectors),
 * SGDT/SIDT/STR/SMSW, and CR4.UMIP at CPL 3.
 */
#include "trap.h"

#define D_DATA 0x50 /* scratch descriptors */
#define D_CODE 0x58
#define D_LDT  0x60
#define D_GATE 0x68

static uint64_t ldt[4] __attribute__((aligned(8)));

static int lar(uint32_t sel, uint32_t *out)
{
	uint32_t v = 0xdeadbeef;
	uint8_t z;
	__asm__ volatile("lar %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"(sel));
	*out = v;
	return z;
}
static int lsl(uint32_t sel, uint32_t *out)
{
	uint32_t v = 0xdeadbeef;
	uint8_t z;
	__asm__ volatile("lsl %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"(sel));
	*out = v;
	return z;
}
static int verr(uint16_t sel)
{
	uint8_t z;
	__asm__ volatile("verr %1; setz %0" : "=q"(z) : "r"(sel));
	return z;
}
static int verw(uint16_t sel)
{
	uint8_t z;
	__asm__ volatile("verw %1; setz %0" : "=q"(z) : "r"(sel));
	return z;
}

static volatile uint32_t xoff, xval;
static void f_fsread(void)
{
	uint32_t off = xoff, v;
	__asm__ volatile("mov %w1, %%fs; mov %%fs:(%2), %0" : "=r"(v) : "r"(D_DATA), "r"(off));
	xval = v;
}
static void f_fswrite(void)
{
	uint32_t off = xoff;
	__asm__ volatile("mov %w0, %%fs; movl $7, %%fs:(%1)" ::"r"(D_DATA), "r"(off) : "memory");
}

/* ring 3 */
static volatile uint32_t u_res[4];
static void u_sgdt(void)
{
	struct __attribute__((packed)) {
		uint16_t l;
		uint32_t b;
	} d;
	__asm__ volatile("sgdt %0" : "=m"(d));
	u_res[0] = d.l;
}
static void u_lar(void)
{
	uint32_t v;
	u_res[1] = lar(SEL_CODE32, &v);
	u_res[2] = lar(SEL_UCODE32, &v);
	u_res[3] = v;
}

int guest_main(void)
{
	trap_init();
	uint32_t v;
	int z;

	/* LAR: access rights = descriptor dword 1 & 0x00f0ff00 */
	z = lar(SEL_CODE32, &v);
	check(z && v == 0x00c09b00, "lar code32: zf %d %x", z, v);
	z = lar(SEL_DATA, &v);
	check(z && v == 0x00c09300, "lar data: zf %d %x", z, v);
	z = lar(SEL_DATA | 3, &v);
	check(!z, "lar DPL 0 data with RPL 3: zf %d", z);
	z = lar(SEL_TSS, &v);
	check(z && (v & 0x00f0ff00) == 0x00008b00, "lar busy TSS: zf %d %x", z, v);
	z = lar(0x200, &v);
	check(!z && v == 0xdeadbeef, "lar beyond GDT limit: zf %d, dest unchanged %x", z, v);
	z = lar(0, &v);
	check(!z, "lar null selector: zf %d", z);
	gdt_set_callgate(D_GATE, 0x1234, SEL_CODE32, 0, 0);
	z = lar(D_GATE, &v);
	check(z && (v & 0xff00) == 0x8c00, "lar call gate: zf %d %x", z, v);
	gdt_set(D_DATA, 0, 0, 0x8e, 0); /* an interrupt gate type in the GDT */
	z = lar(D_DATA, &v);
	check(!z, "lar on interrupt-gate type: zf %d", z);

	/* LSL: byte vs page granular limits; not valid for gates */
	z = lsl(SEL_CODE32, &v);
	check(z && v == 0xffffffff, "lsl flat 4G: %x", v);
	gdt_set(D_DATA, 0x200000, 0x1234, 0x93, 0x4);
	z = lsl(D_DATA, &v);
	check(z && v == 0x1234, "lsl byte granular: %x", v);
	gdt_set(D_DATA, 0x200000, 0x12, 0x93, 0xc);
	z = lsl(D_DATA, &v);
	check(z && v == 0x12fff, "lsl page granular 0x12 -> %x", v);
	z = lsl(SEL_TSS, &v);
	check(z && v == sizeof(struct tss32) - 1, "lsl TSS: %x", v);
	z = lsl(D_GATE, &v);
	check(!z, "lsl call gate: zf %d", z);

	/* VERR / VERW */
	check(verr(SEL_CODE32) && !verw(SEL_CODE32), "readable code: verr 1 verw 0");
	check(verr(SEL_DATA) && verw(SEL_DATA), "data rw: verr 1 verw 1");
	gdt_set(D_DATA, 0, 0xfffff, 0x91, 0xc); /* read-only data */
	check(verr(D_DATA) && !verw(D_DATA), "read-only data: verr 1 verw 0");
	gdt_set(D_CODE, 0, 0xfffff, 0x99, 0xc); /* execute-only code */
	check(!verr(D_CODE) && !verw(D_CODE), "execute-only code: verr 0 verw 0");
	check(!verr(0) && !verw(0), "null selector: verr 0 verw 0");
	check(!verr(SEL_TSS), "TSS: verr 0");

	/* ARPL */
	{
		uint16_t a = 0x10, b = 0x2b;
		uint8_t zf;
		__asm__("arpl %2, %0; setz %1" : "+r"(a), "=q"(zf) : "r"(b));
		check(a == 0x13 && zf, "arpl raised RPL: %x zf %d", a, zf);
		__asm__("arpl %2, %0; setz %1" : "+r"(a), "=q"(zf) : "r"((uint16_t)0x08));
		check(a == 0x13 && !zf, "arpl no change: %x zf %d", a, zf);
	}

	/* accessed bit written back on load */
	gdt_set(D_DATA, 0x200000, 0xfffff, 0x92, 0xc); /* A = 0 */
	*(volatile uint32_t *)0x200010 = 0x55aa;
	xoff = 0x10;
	long r = trap_run(f_fsread);
	check(r == -1 && xval == 0x55aa, "segment base 0x200000: fs:0x10 = %x", xval);
	check((gdt_big[D_DATA >> 3] >> 40 & 1), "segment load set the accessed bit (%lx)",
	      (unsigned long long)gdt_big[D_DATA >> 3]);

	/* read-only data: write #GP(0); expand-down: offsets <= limit fault.
	 * QEMU TCG does not check segment types or limits on accesses. */
	gdt_set(D_DATA, 0, 0xfffff, 0x91, 0xc);
	xoff = 0x300000;
	r = trap_run(f_fswrite);
	check_sdm(r == 13 && trap.err == 0, "write to read-only data segment: vec %d", (int)r);
	gdt_set(D_DATA, 0x200000, 0x0fff, 0x97, 0x4); /* expand-down, B=1: 0x1000..4G-1 */
	xoff = 0x800;
	r = trap_run(f_fsread);
	check_sdm(r == 13 && trap.err == 0, "expand-down: offset 0x800 <= limit faults (vec %d)",
		  (int)r);
	xoff = 0x10;
	r = trap_run(f_fsread);
	check_sdm(r == 13, "expand-down: offset 0x10 faults too (vec %d)", (int)r);
	xoff = 0x2000;
	*(volatile uint32_t *)0x202000 = 0x77;
	r = trap_run(f_fsread);
	check(r == -1 && xval == 0x77, "expand-down: offset 0x2000 is fine (vec %d val %x)", (int)r,
	      xval);

	/* LDT */
	ldt[0] = 0;
	ldt[1] = 0x00cf93000000ffffull | (0x40ull << 16); /* base 0x40, flat data */
	ldt[2] = 0;                                       /* not usable */
	gdt_set(D_LDT, (ureg)ldt, sizeof(ldt) - 1, 0x82, 0);
	__asm__ volatile("lldt %w0" ::"r"(D_LDT));
	uint16_t sl;
	__asm__ volatile("sldt %0" : "=r"(sl));
	check(sl == D_LDT, "sldt = %x", sl);
	{
		static volatile uint32_t probe[2] = { 0x1111, 0x2222 };
		uint32_t got;
		__asm__ volatile("mov %w1, %%gs; mov %%gs:(%2), %0; mov %w3, %%gs"
				 : "=r"(got)
				 : "r"(0x0c), "r"((ureg)&probe[1] - 0x40), "r"(SEL_DATA));
		check(got == 0x2222, "LDT selector 0x0c (base 0x40) reads %x", got);
	}
	z = lar(0x0c, &v);
	check(z && (v & 0xff00) == 0x9300, "lar on an LDT selector: %x", v);
	z = lar(0x14, &v);
	check(!z, "lar on a null LDT entry: zf %d", z);
	z = lar(0x1c, &v);
	check(!z, "lar beyond the LDT limit: zf %d", z);
	__asm__ volatile("lldt %w0" ::"r"(0));

	/* SGDT / SIDT / STR / SMSW */
	{
		struct __attribute__((packed)) {
			uint16_t l;
			uint32_t b;
		} g, i;
		__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
		check(g.b == (ureg)gdt_big && g.l == sizeof(gdt_big) - 1, "sgdt %x/%x", g.b, g.l);
		check(i.l == 256 * 8 - 1, "sidt limit %x", i.l);
		uint16_t tr, msw;
		__asm__ volatile("str %0; smsw %1" : "=r"(tr), "=r"(msw));
		check(tr == SEL_TSS, "str %x", tr);
		check(msw == (uint16_t)read_cr0(), "smsw %x = CR0 low %x", msw,
		      (unsigned)read_cr0());
	}

	/* CPL 3: LAR privilege check, SGDT with/without UMIP */
	r = trap_run_user(u_lar, SEL_UCODE32, SEL_UDATA);
	check(r == VEC_USER_EXIT && !u_res[1] && u_res[2] && u_res[3] == 0x00c0fb00,
	      "lar at CPL3: DPL 0 invisible (%d), DPL 3 visible (%d %x)", u_res[1], u_res[2],
	      u_res[3]);
	r = trap_run_user(u_sgdt, SEL_UCODE32, SEL_UDATA);
	check(r == VEC_USER_EXIT && u_res[0] == sizeof(gdt_big) - 1, "sgdt at CPL3 without UMIP");
	uint32_t id[4];
	cpuid2(7, 0, id);
	if (id[2] >> 2 & 1) {
		write_cr4(read_cr4() | 0x800);
		r = trap_run_user(u_sgdt, SEL_UCODE32, SEL_UDATA);
		check(r == 13 && trap.err == 0, "sgdt at CPL3 with CR4.UMIP -> #GP(0) (vec %d)",
		      (int)r);
		write_cr4(read_cr4() & ~0x800ul);
	} else {
		guest_puts("g32_segments: UMIP not advertised\n");
	}
	return report("g32_segments");
}
