/*
 * tests/guest/lib/trap.c — the C side of the trap harness (see trap.h): IDT
 * and GDT/TSS setup, the dispatcher the stubs call, trap_run/trap_run_user.
 */
#include "trap.h"

volatile struct trap_info trap;
ureg trap_user_flags;
struct trap_frame trap_regs;
static trap_hook hooks[256];
static void *trap_jb[5];
static volatile int trap_armed;

uint64_t gdt_big[64] __attribute__((aligned(16)));
#if GUEST_BITS == 64
static uint64_t idt[512] __attribute__((aligned(16)));
struct tss64 tss __attribute__((aligned(16)));
#else
static uint64_t idt[256] __attribute__((aligned(16)));
struct tss32 tss __attribute__((aligned(16)));
#endif
uint8_t kstack[16384] __attribute__((aligned(16)));
uint8_t istack[8192] __attribute__((aligned(16)));
static uint8_t ustack[16384] __attribute__((aligned(16)));
uint8_t *user_stack_top = ustack + sizeof(ustack);

extern uint64_t gdt[];
extern void user_exit(void);
void trap_enter_user(ureg ip, ureg cs, ureg sp, ureg ss);

struct __attribute__((packed)) dtr {
	uint16_t limit;
	ureg base;
};

void gdt_set(unsigned sel, uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	gdt_big[sel >> 3] = (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 |
			    (uint64_t)(access & 0xff) << 40 |
			    (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
			    (uint64_t)(base >> 24) << 56;
}

void gdt_set_sys64(unsigned sel, uint64_t base, uint32_t limit, unsigned access)
{
	gdt_set(sel, (uint32_t)base, limit, access, 0);
#if GUEST_BITS == 64
	gdt_big[(sel >> 3) + 1] = base >> 32;
#endif
}

void gdt_set_callgate(unsigned sel, ureg off, uint16_t target, unsigned dpl, unsigned params)
{
	gdt_big[sel >> 3] = (off & 0xffff) | (uint64_t)target << 16 |
			    (uint64_t)(params & 0x1f) << 32 |
			    (uint64_t)(0x80 | dpl << 5 | GATE_CALL) << 40 |
			    (uint64_t)((off >> 16) & 0xffff) << 48;
#if GUEST_BITS == 64
	gdt_big[(sel >> 3) + 1] = (uint64_t)off >> 32;
#endif
}

void idt_set(int vec, ureg off, uint16_t sel, unsigned type, unsigned dpl, unsigned ist)
{
#if GUEST_BITS == 64
	idt[vec * 2] = (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)(ist & 7) << 32 |
		       (uint64_t)(0x80 | dpl << 5 | type) << 40 |
		       (uint64_t)((off >> 16) & 0xffff) << 48;
	idt[vec * 2 + 1] = (uint64_t)off >> 32;
#else
	(void)ist;
	idt[vec] = (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)(0x80 | dpl << 5 | type) << 40 |
		   (uint64_t)((off >> 16) & 0xffff) << 48;
#endif
}

void idt_reset(int vec)
{
	idt_set(vec, isr_table[vec], SEL_KCODE, GATE_INT,
		vec == 3 || vec == 4 || vec == VEC_USER_EXIT ? 3 : 0, 0);
}

#if GUEST_BITS == 64
/* Ring-3 code needs U=1 in every level of the boot page tables. */
static void allow_user_pages(void)
{
	extern uint64_t pml4[], pdpt[], pd[];
	pml4[0] |= 4;
	for (int i = 0; i < 4; i++)
		pdpt[i] |= 4;
	for (int i = 0; i < 2048; i++)
		pd[i] |= 4;
	write_cr3(read_cr3());
}
#endif

void trap_init(void)
{
	for (int i = 0; i < 13; i++)
		gdt_big[i] = gdt[i];
	struct dtr g = { sizeof(gdt_big) - 1, (ureg)gdt_big };
	__asm__ volatile("lgdt %0" ::"m"(g));
	for (int v = 0; v < 256; v++)
		idt_reset(v);
	struct dtr i = { sizeof(idt) - 1, (ureg)idt };
	__asm__ volatile("lidt %0" ::"m"(i));
#if GUEST_BITS == 64
	tss.rsp[0] = (ureg)kstack_top;
	tss.ist[0] = (ureg)ist_stack_top;
	tss.iomap = sizeof(tss);
	gdt_set_sys64(SEL_TSS, (ureg)&tss, sizeof(tss) - 1, 0x89);
	allow_user_pages();
#else
	tss.esp0 = (ureg)kstack_top;
	tss.ss0 = SEL_DATA;
	tss.iomap = sizeof(tss);
	gdt_set(SEL_TSS, (ureg)&tss, sizeof(tss) - 1, 0x89, 0);
#endif
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

void trap_reset(void)
{
	trap.count = 0;
	trap.vector = -1;
	trap.err = trap.ip = trap.cs = trap.flags = trap.sp = trap.ss = trap.cr2 = 0;
}

void trap_set_hook(int vec, trap_hook h)
{
	hooks[vec] = h;
}

void trap_dispatch(struct trap_frame *f)
{
	trap.count++;
	trap.vector = (long)f->vector;
	trap.err = f->err;
	trap.ip = f->ip;
	trap.cs = f->cs;
	trap.flags = f->flags;
	trap.sp = f->sp;
	trap.ss = f->ss;
	trap.frame = (ureg)&f->ip;
	/* word by word through volatile: no SSE copy, even in _fp guests where
	 * this may run with CR0.TS=1 (#NM) */
	const volatile ureg *src = (const volatile ureg *)f;
	for (unsigned i = 0; i < sizeof(*f) / sizeof(ureg); i++)
		((ureg *)&trap_regs)[i] = src[i];
	trap.v86seg[0] = f->v86_es;
	trap.v86seg[1] = f->v86_ds;
	trap.v86seg[2] = f->v86_fs;
	trap.v86seg[3] = f->v86_gs;
	if (f->vector == 14)
		trap.cr2 = read_cr2();
	if (hooks[f->vector]) {
		hooks[f->vector](f);
		return;
	}
	if (trap_armed) {
		trap_armed = 0;
		__builtin_longjmp(trap_jb, 1);
	}
	guest_printf("FAIL unexpected trap %d err %lx at %lx:%lx flags %lx cr2 %lx\n",
		     (int)f->vector, (unsigned long long)f->err, (unsigned long long)f->cs,
		     (unsigned long long)f->ip, (unsigned long long)f->flags,
		     (unsigned long long)read_cr2());
	guest_exit(3);
}

long trap_run(void (*fn)(void))
{
	trap_reset();
	if (__builtin_setjmp(trap_jb) == 0) {
		trap_armed = 1;
		fn();
		trap_armed = 0;
		return -1;
	}
#if GUEST_BITS == 32
	__asm__ volatile(
		"mov %w0, %%ss; mov %w0, %%ds; mov %w0, %%es; mov %w0, %%fs; mov %w0, %%gs" ::"r"(
			SEL_DATA));
#endif
	return trap.vector;
}

long trap_run_user(void (*fn)(void), ureg cs, ureg ss)
{
	trap_reset();
	if (__builtin_setjmp(trap_jb) == 0) {
		ureg *sp = (ureg *)user_stack_top;
		*--sp = 0;
		*--sp = (ureg)user_exit;
		trap_armed = 1;
		trap_enter_user((ureg)fn, cs, (ureg)sp, ss);
		__builtin_unreachable();
	}
#if GUEST_BITS == 32
	__asm__ volatile(
		"mov %w0, %%ss; mov %w0, %%ds; mov %w0, %%es; mov %w0, %%fs; mov %w0, %%gs" ::"r"(
			SEL_DATA));
#endif
	return trap.vector;
}

int on_qemu_tcg(void)
{
	uint32_t r[4];
	cpuid2(0x40000000, 0, r);
	return r[1] == 0x54474354 && r[2] == 0x43544743 && r[3] == 0x47435447;
}

void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}
