/*
 * g64_la57 — 5-level paging (SDM Vol. 3 §4.5, CR4.LA57), when CPUID.7.0:
 * ECX[16] advertises it (skipped with a message otherwise). CR4.LA57 can
 * only change outside IA-32e mode, so the switch goes through compatibility
 * mode, clears CR0.PG (leaving IA-32e mode), loads CR4/CR3, sets CR0.PG and
 * far-jumps back to 64-bit code. Checks 57-bit canonical addresses,
 * translation through PML5E[1], A bits in the PML5E, #PF at the PML5 level,
 * and the switch back to 4-level paging.
 */
#include "trap.h"

#define P  1ull
#define RW 2ull
#define A  0x20ull

extern uint64_t pml4[];
static volatile uint64_t pml5[512] __attribute__((aligned(4096)));
static volatile uint64_t pml4_b[512] __attribute__((aligned(4096)));
static volatile uint64_t pdpt_b[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_b[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_b[512] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));

uint64_t saved_rsp;
uint32_t new_cr3, new_cr4;

__asm__(".text\n"
	".code64\n"
	".globl paging_switch\n"
	"paging_switch: mov %rsp, saved_rsp(%rip)\n mov %edi, new_cr3(%rip)\n"
	" mov %esi, new_cr4(%rip)\n pushq $0x08\n lea 1f(%rip), %rax\n push %rax\n lretq\n"
	".code32\n"
	"1: mov %cr0, %eax\n and $0x7fffffff, %eax\n mov %eax, %cr0\n"
	" mov new_cr4, %eax\n mov %eax, %cr4\n mov new_cr3, %eax\n mov %eax, %cr3\n"
	" mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
	" ljmp $0x18, $2f\n"
	".code64\n"
	"2: mov saved_rsp(%rip), %rsp\n ret\n");
void paging_switch(uint32_t cr3, uint32_t cr4);

static volatile ureg addr, val;
static void f_read(void)
{
	val = *(volatile uint64_t *)addr;
}

static long rd(ureg a)
{
	addr = a;
	return trap_run(f_read);
}

int guest_main(void)
{
	trap_init();
	uint32_t id[4];
	cpuid2(7, 0, id);
	if (!(id[2] >> 16 & 1)) {
		guest_puts("g64_la57: LA57 not advertised, skipped\n");
		return report("g64_la57");
	}
	ureg cr3 = read_cr3(), cr4 = read_cr4();
	long v = rd(1ull << 48);
	check(v == 13 && trap.err == 0, "4-level: 1<<48 is non-canonical (vec %d)", (int)v);

	pml5[0] = (ureg)pml4 | P | RW;
	pml5[1] = (ureg)pml4_b | P | RW;
	pml4_b[0] = (ureg)pdpt_b | P | RW;
	pdpt_b[0] = (ureg)pd_b | P | RW;
	pd_b[0] = (ureg)pt_b | P | RW;
	pt_b[3] = (ureg)page | P | RW;
	*(volatile uint64_t *)(page + 8) = 0x5757575757575757ull;

	paging_switch((uint32_t)(ureg)pml5, (uint32_t)(cr4 | 0x1000));
	check(read_cr4() & 0x1000, "CR4.LA57 set (cr4 %lx)", read_cr4());
	check((rdmsr(0xc0000080) & 0x500) == 0x500, "back in IA-32e mode (EFER %lx)",
	      rdmsr(0xc0000080));
	check(read_cr3() == (ureg)pml5, "CR3 = PML5 table");
	ureg va = 1ull << 48 | 3 << 12 | 8;
	v = rd(va);
	check(v == -1 && val == 0x5757575757575757ull, "read through PML5E[1]: vec %d val %lx",
	      (int)v, val);
	check((pml5[1] & A) && (pt_b[3] & A), "A bits in PML5E %lx and PTE %lx", pml5[1], pt_b[3]);
	v = rd(2ull << 48);
	check(v == 14 && trap.err == 0 && trap.cr2 == 2ull << 48,
	      "PML5E[2] not present: vec %d err %lx cr2 %lx", (int)v, trap.err, trap.cr2);
	v = rd(0x0000800000000000ull);
	check(v == 14 && trap.cr2 == 0x0000800000000000ull,
	      "bit 47 is not a canonical boundary under LA57 (#PF, vec %d)", (int)v);
	v = rd(1ull << 56);
	check(v == 13 && trap.err == 0, "1<<56 is non-canonical under LA57 (vec %d)", (int)v);
	v = rd(0xff00000000000000ull);
	check(v == 14 && trap.cr2 == 0xff00000000000000ull,
	      "0xff00... is canonical under LA57 (#PF on PML5E[510], vec %d)", (int)v);

	paging_switch((uint32_t)cr3, (uint32_t)cr4);
	check(!(read_cr4() & 0x1000) && read_cr3() == cr3, "back to 4-level paging");
	v = rd(1ull << 48);
	check(v == 13, "1<<48 non-canonical again (vec %d)", (int)v);
	return report("g64_la57");
}
