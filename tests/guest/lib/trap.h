/*
 * tests/guest/lib/trap.h — exception/interrupt harness for the test guests:
 * an IDT whose 256 stubs (lib/isr.S) save vector, error code and the frame
 * the CPU pushed, a bigger GDT with a TSS, and two ways to handle a trap:
 *   - trap_run(fn): call fn(); if a trap arrives, its details land in `trap`
 *     and trap_run returns the vector (or -1 when fn returned normally);
 *   - trap_set_hook(vec, h): h(frame) runs and the stub IRETs to the
 *     (possibly modified) frame — for traps that resume (#BP, #DB, ...).
 * trap_run_user(fn, cs, ss) runs fn at CPL3 on a private user stack; fn
 * returns into a stub that executes INT 0x7f (DPL-3 gate), which ends it.
 *
 * GDT after trap_init(): the boot selectors (0x08 code32, 0x10 data, 0x18
 * code64, 0x20/0x28/0x30 ring-3 code32/data/code64), 0x38 the TSS (16 bytes
 * in 64-bit mode), 0x48..0x1f8 free for tests (gdt_set / gdt_set_sys64).
 */
#ifndef TRAP_H
#define TRAP_H

#include "guest.h"

typedef unsigned long ureg;

struct trap_frame {
#if GUEST_BITS == 64
	ureg r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
#else
	ureg gs, fs, es, ds;
	ureg edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
#endif
	ureg vector, err;
	/* As pushed by the CPU; in 32-bit mode sp/ss exist only on a privilege
	 * change and v86_* only when the trap came from virtual-8086 mode. */
	ureg ip, cs, flags, sp, ss;
	ureg v86_es, v86_ds, v86_fs, v86_gs;
};

struct trap_info {
	int count;   /* traps since the last trap_run/trap_reset */
	long vector; /* last vector, -1 if none */
	ureg err, ip, cs, flags, sp, ss;
	ureg cr2;       /* CR2 read in the handler when vector == 14 */
	ureg frame;     /* address of the pushed IP: where the frame landed */
	ureg v86seg[4]; /* es, ds, fs, gs pushed from virtual-8086 mode */
};
extern volatile struct trap_info trap;
extern struct trap_frame trap_regs; /* copy of the last frame: GPRs at the trap */

typedef void (*trap_hook)(struct trap_frame *f);

#define SEL_CODE32  0x08
#define SEL_DATA    0x10
#define SEL_CODE64  0x18
#define SEL_UCODE32 0x23
#define SEL_UDATA   0x2b
#define SEL_UCODE64 0x33
#define SEL_TSS     0x38
#if GUEST_BITS == 64
#define SEL_KCODE SEL_CODE64
#define SEL_UCODE SEL_UCODE64
#else
#define SEL_KCODE SEL_CODE32
#define SEL_UCODE SEL_UCODE32
#endif

/* Gate types (SDM Vol. 3 §6.11 / Table 3-2). */
#define GATE_TASK 0x5
#define GATE_CALL 0xc
#define GATE_INT  0xe
#define GATE_TRAP 0xf

#define VEC_USER_EXIT 0x7f

/* check_sdm(cond, ...): a check where QEMU TCG is known to deviate from the
 * SDM: on QEMU TCG (CPUID 0x40000000 = "TCGTCGTCGTCG") a failure is printed
 * but not counted, everywhere else it counts like check(). */
#define check_sdm(cond, ...)                                                                      \
	do {                                                                                      \
		int ok_ = !!(cond);                                                               \
		if (!ok_ && on_qemu_tcg()) {                                                      \
			guest_printf("QEMU-DEVIATION %s:%d (not counted): ", __FILE__, __LINE__); \
			guest_printf(__VA_ARGS__);                                                \
			guest_putc('\n');                                                         \
		} else                                                                            \
			check(ok_, __VA_ARGS__);                                                  \
	} while (0)
int on_qemu_tcg(void);
void pic_mask_all(void); /* mask the 8259s so EFLAGS.IF=1 is harmless */

void trap_init(void);
void trap_reset(void);
void trap_set_hook(int vec, trap_hook h);
long trap_run(void (*fn)(void));
long trap_run_user(void (*fn)(void), ureg cs, ureg ss);

extern ureg trap_user_flags; /* OR-ed into EFLAGS by trap_run_user (e.g. IF, IOPL) */
extern uint64_t gdt_big[64];
extern ureg isr_table[256]; /* stub address per vector */
extern uint8_t *user_stack_top;
extern uint8_t kstack[16384]; /* TSS ring-0 stack (ESP0/RSP0) */
extern uint8_t istack[8192];  /* 64-bit IST1 stack */
#define kstack_top    (kstack + sizeof(kstack))
#define ist_stack_top (istack + sizeof(istack))

void gdt_set(unsigned sel, uint32_t base, uint32_t limit, unsigned access, unsigned flags);
void gdt_set_sys64(unsigned sel, uint64_t base, uint32_t limit, unsigned access);
void gdt_set_callgate(unsigned sel, ureg off, uint16_t target, unsigned dpl, unsigned params);
void idt_set(int vec, ureg off, uint16_t sel, unsigned type, unsigned dpl, unsigned ist);
void idt_reset(int vec); /* back to the default stub, DPL 0 interrupt gate */

#if GUEST_BITS == 64
struct tss64 {
	uint32_t res0;
	uint64_t rsp[3];
	uint64_t res1;
	uint64_t ist[7];
	uint64_t res2;
	uint16_t res3, iomap;
} __attribute__((packed));
extern struct tss64 tss;
#else
struct tss32 {
	uint16_t link, r0;
	uint32_t esp0;
	uint16_t ss0, r1;
	uint32_t esp1;
	uint16_t ss1, r2;
	uint32_t esp2;
	uint16_t ss2, r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
	uint16_t trap, iomap;
};
extern struct tss32 tss;
#endif

static inline ureg read_cr0(void)
{
	ureg v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static inline ureg read_cr2(void)
{
	ureg v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline ureg read_cr3(void)
{
	ureg v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline ureg read_cr4(void)
{
	ureg v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}
static inline void write_cr0(ureg v)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}
static inline void write_cr3(ureg v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline void write_cr4(ureg v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(msr) : "memory");
}
static inline void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
static inline ureg read_flags(void)
{
	ureg v;
	__asm__ volatile("pushf; pop %0" : "=r"(v));
	return v;
}

#endif
