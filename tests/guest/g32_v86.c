/*
 * g32_v86 — virtual-8086 mode (SDM Vol. 3 chapter 20, CR4.VME=0): entry by
 * IRET with EFLAGS.VM=1 from CPL 0, the 9-dword frame (with ES/DS/FS/GS)
 * pushed on the TSS ring-0 stack when an interrupt leaves V86 mode and the
 * nulled data segments in the handler, IRET back into V86 mode, segment
 * arithmetic, IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n,
 * IRET) at IOPL 0 (#GP(0)) and IOPL 3, INT3 not being IOPL-sensitive, and
 * the TSS I/O permission bitmap (which V86 mode always consults).
 * The 16-bit blob runs at 0x0900:xxxx (linear 0x9000).
 */
#include "trap.h"

#define BLOB   0x9000u
#define TSS_IO 0x60

/* a TSS with a full I/O permission bitmap and the terminating 0xff byte */
static struct __attribute__((packed, aligned(16))) {
	struct tss32 t;
	uint8_t bitmap[8192];
	uint8_t end;
} iotss;

enum {
	R_FL_CLI,
	R_FL_STI,
	R_DONE,
	R_N
};

#define OFF(x) "(" #x " - v86_blob_start)"
__asm__(".text\n"
	".code32\n"
	".globl v86_enter\n"
	"v86_enter: push $0\n push $0\n push $0x0900\n push $0x0900\n push $0x0900\n"
	" push $0x0ff0\n push v86_flags\n push $0x0900\n push v86_ip\n iret\n"
	".code16\n"
	".globl v86_blob_start, v86_blob_end, v86_res\n"
	".globl v_int83, v_sens, v_seg, v_cli, v_sti, v_pushf, v_popf, v_intn, v_int3, v_iret\n"
	".globl v_in80, v_in81, v_outw80, v_outw7f, v_int83_next, v_int3_next\n"
	"v86_blob_start:\n"
	"v_int83: mov $0x5555, %ax\n int $0x83\nv_int83_next: movw $0x600d, " OFF(
		v86_res) "+4\n"
			 " int $0x84\n"
			 "v_sens: cli\n pushf\n pop %ax\n mov %ax, " OFF(
				 v86_res) "\n sti\n pushf\n pop %ax\n"
					  " mov %ax, " OFF(
						  v86_res) "+2\n push $0x0002\n popf\n int $0x84\n"
							   "v_seg: mov $0x1000, %ax\n mov %ax, "
							   "%es\n movw $0x4242, %es:0x20\n int "
							   "$0x84\n"
							   "v_cli: cli\n int $0x84\n"
							   "v_sti: sti\n int $0x84\n"
							   "v_pushf: pushf\n int $0x84\n"
							   "v_popf: push $0\n popf\n int $0x84\n"
							   "v_intn: int $0x84\n"
							   "v_int3: int3\nv_int3_next: int $0x84\n"
							   "v_iret: iret\n"
							   "v_in80: in $0x80, %al\n int3\n" /* INT n
											       would
											       #GP
											       at
											       IOPL
											       0 */
							   "v_in81: in $0x81, %al\n int $0x84\n"
							   "v_outw80: out %ax, $0x80\n int $0x84\n"
							   "v_outw7f: out %ax, $0x7f\n int $0x84\n"
							   ".balign 2\n"
							   "v86_res: .fill 8, 2, 0\n"
							   "v86_blob_end:\n"
							   ".code32\n");

void v86_enter(void);
extern char v86_blob_start[], v86_blob_end[], v86_res[], v_int83[], v_sens[], v_seg[], v_cli[],
	v_sti[], v_pushf[], v_popf[], v_intn[], v_int3[], v_iret[], v_in80[], v_in81[], v_outw80[],
	v_outw7f[], v_int83_next[], v_int3_next[];
uint32_t v86_ip, v86_flags;

#define BOFF(sym) ((uint32_t)((sym)-v86_blob_start))
#define VM        0x20000u

static volatile ureg h_flags_in, h_ds_in, h_es_in, h_eax, h_count;
static void hook83(struct trap_frame *f)
{
	h_count++;
	h_flags_in = read_flags();
	h_ds_in = f->ds;
	h_es_in = f->es;
	h_eax = f->eax;
}

static long run(char *ip, unsigned iopl)
{
	v86_ip = BOFF(ip);
	v86_flags = VM | iopl << 12 | 2;
	return trap_run(v86_enter);
}

static void expect_gp(char *ip, unsigned iopl, const char *what)
{
	long v = run(ip, iopl);
	check(v == 13 && trap.err == 0 && trap.ip == BOFF(ip) && trap.cs == 0x0900,
	      "%s at IOPL %d: vec %d err %x ip %x (want #GP(0) at %x)", what, iopl, (int)v,
	      (unsigned)trap.err, (unsigned)trap.ip, BOFF(ip));
}

static void expect_ok(char *ip, unsigned iopl, const char *what)
{
	long v = run(ip, iopl);
	check(v == (iopl == 3 ? 0x84 : 3), "%s at IOPL %d runs (vec %d err %x ip %x)", what, iopl,
	      (int)v, (unsigned)trap.err, (unsigned)trap.ip);
}

int guest_main(void)
{
	trap_init();
	pic_mask_all();
	uint32_t n = (uint32_t)(v86_blob_end - v86_blob_start);
	for (uint32_t i = 0; i < n; i++)
		((volatile uint8_t *)BLOB)[i] = (uint8_t)v86_blob_start[i];
	volatile uint16_t *res = (volatile uint16_t *)(BLOB + BOFF(v86_res));
	/* TSS with I/O bitmap: only ports 0x80 (and 0xe9) allowed */
	iotss.t = tss;
	iotss.t.iomap = sizeof(iotss.t);
	for (int i = 0; i < 8192; i++)
		iotss.bitmap[i] = 0xff;
	iotss.bitmap[0x80 / 8] &= ~(1u << (0x80 % 8));
	iotss.bitmap[0xe9 / 8] &= ~(1u << (0xe9 % 8));
	iotss.end = 0xff;
	gdt_set(TSS_IO, (ureg)&iotss, sizeof(iotss) - 1, 0x89, 0);
	__asm__ volatile("ltr %w0" ::"r"(TSS_IO));
	idt_set(0x83, isr_table[0x83], SEL_CODE32, GATE_INT, 3, 0);
	idt_set(0x84, isr_table[0x84], SEL_CODE32, GATE_INT, 3, 0);
	trap_set_hook(0x83, hook83);

	/* INT n at IOPL 3 goes through the IDT (DPL 3 gate) and IRET returns */
	long v = run(v_int83, 3);
	check(v == 0x84 && h_count == 1 && res[R_DONE] == 0x600d,
	      "V86 INT 0x83 at IOPL 3: handled and resumed (vec %d count %d)", (int)v,
	      (int)h_count);
	check(h_eax == 0x5555, "V86 registers seen by the handler (eax %x)", (unsigned)h_eax);
	check(h_ds_in == 0 && h_es_in == 0, "handler runs with DS/ES nulled (%x %x)",
	      (unsigned)h_ds_in, (unsigned)h_es_in);
	check(!(h_flags_in & VM), "handler runs with VM=0 (%x)", (unsigned)h_flags_in);
	/* trap holds the last (0x84) frame; the 0x83 frame was checked by the hook:
	 * check the 9-dword frame of the exit INT */
	check((trap.flags & VM) && ((trap.flags >> 12) & 3) == 3 && trap.cs == 0x0900,
	      "frame: eflags %x cs %x", (unsigned)trap.flags, (unsigned)trap.cs);
	check(trap.ss == 0x0900 && trap.sp == 0x0ff0, "frame: ss:sp %x:%x", (unsigned)trap.ss,
	      (unsigned)trap.sp);
	check(trap.v86seg[0] == 0x0900 && trap.v86seg[1] == 0x0900 && trap.v86seg[2] == 0 &&
		      trap.v86seg[3] == 0,
	      "frame: es %x ds %x fs %x gs %x", (unsigned)trap.v86seg[0], (unsigned)trap.v86seg[1],
	      (unsigned)trap.v86seg[2], (unsigned)trap.v86seg[3]);
	check(trap.frame == (ureg)kstack_top - 36, "frame on TSS.ESP0 (%x want %x)",
	      (unsigned)trap.frame, (unsigned)(ureg)kstack_top - 36);

	/* segment arithmetic */
	*(volatile uint16_t *)0x10020 = 0;
	v = run(v_seg, 3);
	check(v == 0x84 && *(volatile uint16_t *)0x10020 == 0x4242 && trap.v86seg[0] == 0x1000,
	      "V86 ES=0x1000 writes linear 0x10020; pushed ES %x", (unsigned)trap.v86seg[0]);

	/* IOPL 3: CLI/STI/PUSHF/POPF work on the real IF */
	v = run(v_sens, 3);
	check(v == 0x84 && !(res[R_FL_CLI] & 0x200) && (res[R_FL_STI] & 0x200),
	      "IOPL 3: cli/sti/pushf (%x %x)", res[R_FL_CLI], res[R_FL_STI]);
	check(((res[R_FL_CLI] >> 12) & 3) == 3, "pushf shows IOPL 3 (%x)", res[R_FL_CLI]);
	check(!(trap.flags & 0x200) && ((trap.flags >> 12) & 3) == 3,
	      "popf at IOPL 3 cleared IF, kept IOPL (%x)", (unsigned)trap.flags);

	/* IOPL 0: the sensitive instructions fault */
	expect_gp(v_cli, 0, "cli");
	expect_gp(v_sti, 0, "sti");
	expect_gp(v_pushf, 0, "pushf");
	expect_gp(v_popf + 2, 0, "popf"); /* push $0 is 2 bytes */
	expect_gp(v_intn, 0, "int 0x84");
	expect_gp(v_iret, 0, "iret");
	v = run(v_int3, 0);
	check(v == 3 && trap.ip == BOFF(v_int3_next) && (trap.flags & VM),
	      "int3 (CC) is not IOPL-sensitive: vec %d ip %x", (int)v, (unsigned)trap.ip);
	expect_ok(v_cli, 3, "cli");

	/* the I/O bitmap, at any IOPL */
	expect_ok(v_in80, 0, "in 0x80 (bitmap allows)");
	expect_gp(v_in81, 0, "in 0x81 (bitmap denies)");
	expect_gp(v_in81, 3, "in 0x81 (bitmap denies even at IOPL 3)");
	expect_gp(v_outw80, 0, "out word 0x80 (0x81 denied)");
	expect_gp(v_outw7f, 0, "out word 0x7f (0x7f denied)");

	/* back in protected mode for good */
	trap_set_hook(0x83, 0);
	check(!(read_flags() & VM), "protected mode again");
	return report("g32_v86");
}
