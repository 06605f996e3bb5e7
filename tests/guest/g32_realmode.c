/*
 * g32_realmode — leaving protected mode for real-address mode and coming
 * back (SDM Vol. 3 §9.9): a 16-bit code segment, CR0.PE=0, far jump; then in
 * real mode: segment arithmetic (base = selector * 16), INT n and exceptions
 * (#DE, #UD, #GP on a 64K limit overrun) through the IVT with the 6-byte
 * FLAGS/CS/IP frame and IRET, far CALL/RET, 66/67 operand- and address-size
 * prefixes, unreal mode (FS keeps the 4 GiB limit it had in protected mode),
 * then CR0.PE=1 and a far jump back to 32-bit code.
 * The 16-bit blob is copied to 0x8000 and runs at CS=0x0800.
 */
#include "trap.h"

#define BLOB 0x8000u
#define CS16 0x60 /* 16-bit code, base 0x8000, limit 64K */
#define DS16 0x68 /* 16-bit data, base 0, limit 64K */

/* results, as 16-bit words at rm_res inside the blob */
enum {
	R_SEGW,
	R_I50_IP,
	R_I50_CS,
	R_I50_FL,
	R_I50_FLIN,
	R_DE_IP,
	R_UD_IP,
	R_GP_IP,
	R_GP_N,
	R_SP_DIFF,
	R_P66_LO,
	R_P66_HI,
	R_U_LO,
	R_U_HI,
	R_A32_LO,
	R_FC_CS,
	R_FC_IP,
	R_DONE,
	R_I50_SP,
	R_CR0,
	R_WRAP_SP,
	R_I51,
	R_N
};

#define OFF(x) "(" #x " - rm_blob_start)"
__asm__(".text\n"
	".code32\n"
	".globl rm_enter\n"
	"rm_enter: pushal\n mov %esp, pm_esp\n sidt pm_idtr\n"
	" ljmp $0x60, $" OFF(
		rm16) "\n"
		      ".code16\n"
		      ".globl rm_blob_start, rm_blob_end, rm_res, rm_h50, rm_hde, rm_hud, rm_hgp, "
		      "rm_h51\n"
		      "rm_blob_start:\n"
		      "rm16: mov $0x68, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n mov "
		      "%ax, %gs\n"
		      " lidt %cs:" OFF(
			      rm_ivt_desc) "\n"
					   " mov %cr0, %eax\n and $0xfffffffe, %eax\n mov "
					   "%eax, %cr0\n"
					   " ljmp $0x0800, $" OFF(
						   rm_real) "\n"
							    "rm_real: xor %ax, %ax\n mov "
							    "%ax, %ss\n mov $0x7000, %sp\n"
							    " mov $0x0800, %ax\n mov %ax, "
							    "%ds\n mov %ax, %es\n"
							    " mov %cr0, %eax\n mov "
							    "%ax, " OFF(rm_res) "+2*19\n"
										/* segment
										   arithmetic:
										   ES=0x1234 ->
										   0x12340 */
										" mov "
										"$0x1234, "
										"%ax\n mov "
										"%ax, %es\n "
										"movw "
										"$0xbeef, "
										"%es:0x10\n"
										" mov "
										"%es:0x10, "
										"%ax\n mov "
										"%ax, " OFF(
											rm_res) "+2"
												"*0"
												"\n"
												" m"
												"ov"
												" $"
												"0x"
												"08"
												"00"
												", "
												"%a"
												"x"
												"\n"
												" m"
												"ov"
												" %"
												"ax"
												", "
												"%e"
												"s"
												"\n"
												/* INT
												   0x50 through the IVT, with IF=1 before */
												" s"
												"ti"
												"\n"
												" i"
												"nt"
												" $"
												"0x"
												"50"
												"\n"
												"rm"
												"_a"
												"ft"
												"er"
												"50"
												": "
												"cl"
												"i"
												"\n"
												/* #DE,
												   #UD */
												" x"
												"or"
												" %"
												"bl"
												", "
												"%b"
												"l"
												"\n"
												" m"
												"ov"
												" $"
												"1,"
												" %"
												"ax"
												"\n"
												"rm"
												"_d"
												"e:"
												" d"
												"iv"
												" %"
												"bl"
												"\n"
												"rm"
												"_u"
												"d:"
												" u"
												"d2"
												"\n"
												/* #GP:
												   word at ES:0xffff crosses the 64K limit (4-byte insn) */
												"rm"
												"_g"
												"p:"
												" m"
												"ov"
												" %"
												"es"
												":0"
												"xf"
												"ff"
												"f,"
												" %"
												"ax"
												"\n"
												/* 66:
												   32-bit push in 16-bit code */
												" m"
												"ov"
												" $"
												"0x"
												"12"
												"34"
												"56"
												"78"
												", "
												"%e"
												"ax"
												"\n"
												" m"
												"ov"
												" %"
												"sp"
												", "
												"%d"
												"x"
												"\n"
												" p"
												"us"
												"h "
												"%e"
												"ax"
												"\n"
												" s"
												"ub"
												" %"
												"sp"
												", "
												"%d"
												"x"
												"\n"
												" p"
												"op"
												" %"
												"eb"
												"x"
												"\n"
												" m"
												"ov"
												" %"
												"dx"
												","
												" " OFF(rm_res) "+2*9\n mov %bx, " OFF(
													rm_res) "+2*10\n shr $16, %ebx\n"
														" mov %bx, " OFF(
															rm_res) "+2*11\n"
																/* unreal: FS still has base 0, limit 4G; 67 prefix for a 32-bit address */
																" mov $0x200000, %ebx\n mov %fs:(%ebx), %eax\n mov %ax, " OFF(rm_res) "+2*12\n"
																								      " shr $16, %eax\n mov %ax, " OFF(rm_res) "+2*13\n"
																													       /* 67 with a scaled index */
																													       " mov $2, %ecx\n mov " OFF(
																														       rm_arr) "(,%ecx,2), %ax\n mov %ax, " OFF(rm_res) "+2*14\n"
																																					/* far call and far return */
																																					" lcall $0x0800, $" OFF(rm_fc) "\n"
																																								       " movw $0x600d, " OFF(rm_res) "+2*17\n"
																																												     /* 16-bit stack wrap: PUSH at SP=0 writes SS:FFFE */
																																												     " mov %sp, %bx\n xor %sp, %sp\n mov $0x5a5a, %ax\n push %ax\n mov %sp, %dx\n"
																																												     " mov %bx, %sp\n mov %dx, " OFF(rm_res) "+2*20\n"
																																																	     /* a relocated real-mode IVT: LIDT base 0x7c00, INT 0x51 */
																																																	     " lidt " OFF(rm_ivt2_desc) "\n int $0x51\n lidt " OFF(rm_ivt_desc) "\n"
																																																										/* back to protected mode */
																																																										" cli\n mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
																																																										" ljmpl $0x08, $rm_back\n"
																																																										"rm_fc: mov %sp, %bp\n mov %cs, %ax\n mov %ax, " OFF(rm_res) "+2*15\n"
																																																																	     " mov (%bp), %ax\n mov %ax, " OFF(
																																																																		     rm_res) "+2*16\n lret\n"
																																																																			     "rm_h50: mov %sp, %bp\n mov %bp, " OFF(
																																																																				     rm_res) "+2*18\n mov (%bp), %ax\n"
																																																																					     " mov %ax, " OFF(rm_res) "+2*1\n mov 2(%bp), %ax\n mov %ax, " OFF(rm_res) "+2*2\n"
																																																																														       " mov 4(%bp), %ax\n mov %ax, " OFF(
																																																																															       rm_res) "+2*3\n pushf\n pop %ax\n"
																																																																																       " mov %ax, " OFF(
																																																																																	       rm_res) "+2*4\n iret\n"
																																																																																		       "rm_hde: mov %sp, %bp\n mov (%bp), %ax\n mov %ax, " OFF(rm_res) "+2*5\n"
																																																																																										       " addw $2, (%bp)\n iret\n"
																																																																																										       "rm_hud: mov %sp, %bp\n mov (%bp), %ax\n mov %ax, " OFF(rm_res) "+2*6\n"
																																																																																																		       " addw $2, (%bp)\n iret\n"
																																																																																																		       "rm_h51: incw " OFF(rm_res) "+2*21\n iret\n"
																																																																																																						   "rm_hgp: mov %sp, %bp\n mov (%bp), %ax\n mov %ax, " OFF(
																																																																																																							   rm_res) "+2*7\n"
																																																																																																								   " incw " OFF(rm_res) "+2*8\n addw $4, (%bp)\n iret\n"
																																																																																																											".balign 4\n"
																																																																																																											"rm_ivt_desc: .word 0x3ff\n .long 0\n"
																																																																																																											"rm_ivt2_desc: .word 0x3ff\n .long 0x7c00\n"
																																																																																																											"rm_arr: .word 0x1111, 0x2222, 0x3333, 0x4444\n"
																																																																																																											"rm_res: .fill 32, 2, 0\n"
																																																																																																											"rm_blob_end:\n"
																																																																																																											".code32\n"
																																																																																																											"rm_back: mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n mov %ax, %fs\n"
																																																																																																											" mov %ax, %gs\n mov pm_esp, %esp\n lidt pm_idtr\n popal\n ret\n");

void rm_enter(void);
extern char rm_h51[];
extern char rm_blob_start[], rm_blob_end[], rm_res[], rm_h50[], rm_hde[], rm_hud[], rm_hgp[],
	rm_after50[], rm_de[], rm_ud[], rm_gp[], rm_fc[];
uint32_t pm_esp;
struct __attribute__((packed)) {
	uint16_t lim;
	uint32_t base;
} pm_idtr;

#define BOFF(sym) ((uint32_t)((sym)-rm_blob_start))

int guest_main(void)
{
	trap_init();
	pic_mask_all();
	gdt_set(CS16, BLOB, 0xffff, 0x9b, 0);
	gdt_set(DS16, 0, 0xffff, 0x93, 0);
	uint32_t n = (uint32_t)(rm_blob_end - rm_blob_start);
	check(n < 0x1000, "blob fits (%d bytes)", n);
	for (uint32_t i = 0; i < n; i++)
		((volatile uint8_t *)BLOB)[i] = (uint8_t)rm_blob_start[i];
	volatile uint32_t *ivt;
	__asm__("" : "=r"(ivt) : "0"(0)); /* the IVT is at linear 0; hide that from gcc */
	ivt[0] = 0x0800u << 16 | BOFF(rm_hde);
	ivt[6] = 0x0800u << 16 | BOFF(rm_hud);
	ivt[13] = 0x0800u << 16 | BOFF(rm_hgp);
	ivt[0x50] = 0x0800u << 16 | BOFF(rm_h50);
	*(volatile uint32_t *)0x200000 = 0xcafebabe;
	*(volatile uint32_t *)(0x7c00 + 0x51 * 4) = 0x0800u << 16 | BOFF(rm_h51);
	*(volatile uint16_t *)0xfffe = 0;
	*(volatile uint16_t *)0x12350 = 0;

	rm_enter();
	check(1, "back in protected mode");
	check(read_cr0() & 1, "CR0.PE set again");
	volatile uint16_t *res = (volatile uint16_t *)(BLOB + BOFF(rm_res));
	check(res[R_DONE] == 0x600d, "real-mode code ran to the end (%x)", res[R_DONE]);
	check(!(res[R_CR0] & 1), "CR0.PE clear in real mode (cr0 %x)", res[R_CR0]);
	check(res[R_SEGW] == 0xbeef && *(volatile uint16_t *)0x12350 == 0xbeef,
	      "ES=0x1234: offset 0x10 is linear 0x12350");
	check(res[R_I50_IP] == BOFF(rm_after50) && res[R_I50_CS] == 0x0800,
	      "INT 0x50 frame IP %x CS %x (want %x 0800)", res[R_I50_IP], res[R_I50_CS],
	      BOFF(rm_after50));
	check((res[R_I50_FL] & 0x200) && !(res[R_I50_FLIN] & 0x200),
	      "INT pushed FLAGS with IF=1 (%x) and cleared IF (%x)", res[R_I50_FL],
	      res[R_I50_FLIN]);
	check(res[R_I50_SP] == 0x7000 - 6, "INT pushed 6 bytes (sp %x)", res[R_I50_SP]);
	check(res[R_DE_IP] == BOFF(rm_de), "#DE via IVT[0], IP = the div (%x want %x)",
	      res[R_DE_IP], BOFF(rm_de));
	check(res[R_UD_IP] == BOFF(rm_ud), "#UD via IVT[6], IP = ud2 (%x want %x)", res[R_UD_IP],
	      BOFF(rm_ud));
	/* SDM Vol. 3 §20.1.3: a real-mode access past the 64K limit is
	 * interrupt 13; QEMU TCG does not check segment limits. */
	check_sdm(res[R_GP_N] == 1 && res[R_GP_IP] == BOFF(rm_gp),
		  "limit overrun -> int 13 at the insn (n %d ip %x want %x)", res[R_GP_N],
		  res[R_GP_IP], BOFF(rm_gp));
	check(res[R_SP_DIFF] == 4, "66 push %%eax in 16-bit code moves SP by 4 (%d)",
	      res[R_SP_DIFF]);
	check(res[R_P66_LO] == 0x5678 && res[R_P66_HI] == 0x1234, "66 mov/pop 32-bit value");
	check(res[R_U_LO] == 0xbabe && res[R_U_HI] == 0xcafe, "unreal mode: fs:[0x200000] = %x%x",
	      res[R_U_HI], res[R_U_LO]);
	check(res[R_A32_LO] == 0x3333, "67 scaled index (%x)", res[R_A32_LO]);
	check(res[R_FC_CS] == 0x0800, "far call: CS %x", res[R_FC_CS]);
	check(res[R_WRAP_SP] == 0xfffe && *(volatile uint16_t *)0xfffe == 0x5a5a,
	      "push at SP=0 wraps to SS:FFFE (sp %x)", res[R_WRAP_SP]);
	check(res[R_I51] == 1, "INT 0x51 through an IVT moved by LIDT (%d)", res[R_I51]);
	return report("g32_realmode");
}
