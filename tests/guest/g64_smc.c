/*
 * g64_smc — self- and cross-modifying code as a system sees it (SDM Vol. 3
 * §8.1.3): stores into code that already ran (same linear address, then a
 * call), into the very next instruction of the running block (no branch in
 * between), code written through an alias mapping of the same physical
 * page and executed through another, code written by REP MOVSB, and a code
 * page remapped to another physical page followed by INVLPG / CR3 reload.
 * An emulator with a block cache must see every one of these changes.
 */
#include "trap.h"

#define P  1ull
#define RW 2ull

extern uint64_t pml4[];
static volatile uint64_t pdpt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_t[512] __attribute__((aligned(4096)));
static uint8_t code[3][4096] __attribute__((aligned(4096)));

#define BASE  0x8000000000ul
#define VA(i) (BASE + (ureg)(i)*4096)

/* a function that returns imm32: mov $imm, %eax; ret */
static void emit_ret_imm(volatile uint8_t *p, uint32_t imm)
{
	p[0] = 0xb8;
	p[1] = (uint8_t)imm;
	p[2] = (uint8_t)(imm >> 8);
	p[3] = (uint8_t)(imm >> 16);
	p[4] = (uint8_t)(imm >> 24);
	p[5] = 0xc3;
}

static uint32_t call(ureg a)
{
	return ((uint32_t(*)(void))a)();
}

/* in-block modification: the store patches the immediate of the mov two
 * instructions later; no branch between the store and its execution */
__asm__(".text\n"
	".globl smc_inblock, smc_imm\n"
	"smc_inblock: movl %edi, smc_imm(%rip)\n nop\n"
	" .byte 0xb8\nsmc_imm: .long 0x11111111\n ret\n");
uint32_t smc_inblock(uint32_t v);

int guest_main(void)
{
	trap_init();
	/* the .text section is writable in this flat guest (one RWX segment) */
	check(smc_inblock(0x22222222) == 0x22222222, "in-block store to the next insn seen");
	check(smc_inblock(0x33333333) == 0x33333333, "... and again (block cache invalidated)");

	/* same address, modified between calls */
	volatile uint8_t *c0 = code[0];
	emit_ret_imm(c0, 1);
	uint32_t r1 = call((ureg)c0);
	emit_ret_imm(c0, 2);
	uint32_t r2 = call((ureg)c0);
	c0[1] = 3;
	uint32_t r3 = call((ureg)c0);
	check(r1 == 1 && r2 == 2 && r3 == 3, "rewritten code seen: %d %d %d", r1, r2, r3);
	/* many calls first (a translator would have hot code by then) */
	uint32_t sum = 0;
	for (int i = 0; i < 1000; i++)
		sum += call((ureg)c0);
	c0[1] = 4;
	check(sum == 3000 && call((ureg)c0) == 4, "hot code rewritten: sum %d then %d", sum,
	      call((ureg)c0));

	/* an instruction spanning two pages: modify the part on the second page */
	volatile uint8_t *span = code[1] + 4094;
	emit_ret_imm(span, 0x01020304);
	uint32_t s1 = 0;
	for (int i = 0; i < 100; i++)
		s1 = call((ureg)span);
	code[2][1] = 0x7f; /* imm byte 2 -> 0x017f0304 */
	uint32_t s2 = call((ureg)span);
	check(s1 == 0x01020304 && s2 == 0x017f0304,
	      "page-spanning insn, 2nd page rewritten: %x then %x", s1, s2);

	/* alias mappings: VA(0) and VA(1) both map code[1]; write via VA(1),
	 * execute via VA(0) */
	pml4[1] = (ureg)pdpt_t | P | RW;
	pdpt_t[0] = (ureg)pd_t | P | RW;
	pd_t[0] = (ureg)pt_t | P | RW;
	pt_t[0] = (ureg)code[1] | P | RW;
	pt_t[1] = (ureg)code[1] | P | RW;
	pt_t[2] = (ureg)code[2] | P | RW;
	write_cr3(read_cr3());
	emit_ret_imm((volatile uint8_t *)VA(1), 10);
	uint32_t a1 = call(VA(0));
	emit_ret_imm((volatile uint8_t *)VA(1), 11);
	uint32_t a2 = call(VA(0));
	check(a1 == 10 && a2 == 11, "write through an alias, execute the other: %d %d", a1, a2);
	emit_ret_imm(code[1] + 64, 12); /* and through the identity map */
	check(call(VA(0) + 64) == 12, "write through the identity map, execute at VA(0)");

	/* code copied by REP MOVSB */
	static const uint8_t tmpl[6] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 };
	__asm__ volatile("rep movsb" ::"D"(VA(1) + 128), "S"(tmpl), "c"(6ul) : "memory");
	check(call(VA(0) + 128) == 42, "code written by rep movsb");

	/* remap: VA(0) -> code[2] (different code), INVLPG, call */
	emit_ret_imm(code[2], 20);
	check(call(VA(0)) == 11, "before remap");
	pt_t[0] = (ureg)code[2] | P | RW;
	__asm__ volatile("invlpg (%0)" ::"r"(VA(0)) : "memory");
	check(call(VA(0)) == 20, "after remap + INVLPG the new page's code runs (%d)", call(VA(0)));
	pt_t[0] = (ureg)code[1] | P | RW;
	write_cr3(read_cr3());
	check(call(VA(0)) == 11, "after remap back + CR3 reload (%d)", call(VA(0)));
	/* not present: the old translation/code must not be used after INVLPG */
	pt_t[0] = 0;
	__asm__ volatile("invlpg (%0)" ::"r"(VA(0)) : "memory");
	static volatile ureg target;
	target = VA(0);
	uint32_t id[4];
	cpuid2(0x80000001, 0, id);
	int nx = id[3] >> 20 & 1;
	if (nx) /* I/D in the error code needs EFER.NXE */
		wrmsr(0xc0000080, rdmsr(0xc0000080) | 0x800);
	long v = trap_run((void (*)(void))target);
	check(v == 14 && trap.cr2 == VA(0) && trap.err == (nx ? 0x10u : 0u),
	      "code page unmapped: #PF err %lx cr2 %lx (vec %d)", trap.err, trap.cr2, (int)v);
	return report("g64_smc");
}
