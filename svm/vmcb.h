/*
 * svm/vmcb.h — the Virtual Machine Control Block as it lies in memory
 * (AMD APM Vol. 2 Appendix B, Tables B-1 and B-2), the intercept bits, the
 * exit codes (Appendix C) and the bit layouts of the VMCB fields the svm/
 * files interpret. The struct is the exact 4 KiB image: VMRUN copies the
 * page in, #VMEXIT copies it back; compile-time checks freeze every offset.
 *
 *   0x000  control area (intercepts, IOPM/MSRPM, ASID, interrupt control,
 *          exit information, NPT, EVENTINJ, nRIP)
 *   0x400  state save area (segments, CRs, EFER, RFLAGS, RIP, RSP, RAX,
 *          the VMLOAD/VMSAVE MSRs, CR2, PAT)
 */
#ifndef NESTBOX_SVM_VMCB_H
#define NESTBOX_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

/* Segment in the save area: attrib is the descriptor's attribute bits
 * packed in 12 bits (APM Vol. 2 §15.5.1):
 *   bits 7:0 = descriptor bits 47:40 (type, S, DPL, P)
 *   bits 11:8 = descriptor bits 55:52 (AVL, L, D/B, G)                   */
struct vmcb_seg {
	uint16_t sel;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint32_t icpt_cr;    /* 000: 15:0 CRn reads, 31:16 CRn writes */
	uint32_t icpt_dr;    /* 004: 15:0 DRn reads, 31:16 DRn writes */
	uint32_t icpt_exc;   /* 008: exception vectors 0-31 */
	uint32_t icpt_misc1; /* 00C: ICPT1_* */
	uint32_t icpt_misc2; /* 010: ICPT2_* */
	uint32_t icpt_misc3; /* 014: INVLPGB, INVPCID, ... */
	uint8_t rsvd_018[0x3c - 0x18];
	uint16_t pause_thresh; /* 03C */
	uint16_t pause_count;  /* 03E */
	uint64_t iopm_base;    /* 040 */
	uint64_t msrpm_base;   /* 048 */
	uint64_t tsc_offset;   /* 050 */
	uint32_t asid;         /* 058 */
	uint8_t tlb_control;   /* 05C */
	uint8_t rsvd_05d[3];
	uint32_t int_ctl;    /* 060: INTCTL_* */
	uint32_t int_vector; /* 064: V_INTR_VECTOR in 7:0 */
	uint32_t int_state;  /* 068: bit 0 interrupt shadow, bit 1 guest IF */
	uint32_t rsvd_06c;
	uint64_t exitcode;    /* 070 */
	uint64_t exitinfo1;   /* 078 */
	uint64_t exitinfo2;   /* 080 */
	uint64_t exitintinfo; /* 088: EVENTINJ format */
	uint64_t np_ctl;      /* 090: bit 0 NP_ENABLE */
	uint64_t avic_bar;    /* 098 */
	uint64_t ghcb;        /* 0A0 */
	uint64_t eventinj;    /* 0A8 */
	uint64_t n_cr3;       /* 0B0 */
	uint64_t virt_ext;    /* 0B8: LBR virtualization, virtual VMLOAD/VMSAVE */
	uint32_t clean;       /* 0C0: VMCB clean bits */
	uint32_t rsvd_0c4;
	uint64_t nrip;          /* 0C8 */
	uint8_t insn_len;       /* 0D0 */
	uint8_t insn_bytes[15]; /* 0D1 */
	uint8_t rsvd_0e0[0x400 - 0xe0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 400 - 45F */
	struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 460 - 49F */
	uint8_t rsvd_4a0[0x4cb - 0x4a0];
	uint8_t cpl; /* 4CB */
	uint32_t rsvd_4cc;
	uint64_t efer; /* 4D0 */
	uint8_t rsvd_4d8[0x548 - 0x4d8];
	uint64_t cr4, cr3, cr0, dr7, dr6; /* 548 - 56F */
	uint64_t rflags, rip;             /* 570, 578 */
	uint8_t rsvd_580[0x5d8 - 0x580];
	uint64_t rsp;                                     /* 5D8 */
	uint64_t s_cet, ssp, isst;                        /* 5E0 - 5F7 */
	uint64_t rax;                                     /* 5F8 */
	uint64_t star, lstar, cstar, sfmask;              /* 600 - 61F */
	uint64_t kernel_gs_base;                          /* 620 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip; /* 628 - 63F */
	uint64_t cr2;                                     /* 640 */
	uint8_t rsvd_648[0x668 - 0x648];
	uint64_t g_pat; /* 668 */
	/* 670 - 697: DBGCTL, BR_FROM, BR_TO, LASTEXCPFROM, LASTEXCPTO */
	uint64_t lbr[5];
	uint8_t rsvd_698[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control c;
	struct vmcb_save s;
};

/* Offsets within the 4 KiB page (APM Vol. 2 Tables B-1, B-2). */
#define VMCB_CHK(m, off) _Static_assert(offsetof(struct vmcb, m) == (off), "VMCB offset of " #m)
VMCB_CHK(c.icpt_cr, 0x000);
VMCB_CHK(c.icpt_exc, 0x008);
VMCB_CHK(c.icpt_misc1, 0x00c);
VMCB_CHK(c.icpt_misc2, 0x010);
VMCB_CHK(c.pause_thresh, 0x03c);
VMCB_CHK(c.iopm_base, 0x040);
VMCB_CHK(c.msrpm_base, 0x048);
VMCB_CHK(c.tsc_offset, 0x050);
VMCB_CHK(c.asid, 0x058);
VMCB_CHK(c.tlb_control, 0x05c);
VMCB_CHK(c.int_ctl, 0x060);
VMCB_CHK(c.int_vector, 0x064);
VMCB_CHK(c.int_state, 0x068);
VMCB_CHK(c.exitcode, 0x070);
VMCB_CHK(c.exitinfo1, 0x078);
VMCB_CHK(c.exitinfo2, 0x080);
VMCB_CHK(c.exitintinfo, 0x088);
VMCB_CHK(c.np_ctl, 0x090);
VMCB_CHK(c.eventinj, 0x0a8);
VMCB_CHK(c.n_cr3, 0x0b0);
VMCB_CHK(c.clean, 0x0c0);
VMCB_CHK(c.nrip, 0x0c8);
VMCB_CHK(c.insn_len, 0x0d0);
VMCB_CHK(s.es, 0x400);
VMCB_CHK(s.cs, 0x410);
VMCB_CHK(s.ss, 0x420);
VMCB_CHK(s.ds, 0x430);
VMCB_CHK(s.fs, 0x440);
VMCB_CHK(s.gs, 0x450);
VMCB_CHK(s.gdtr, 0x460);
VMCB_CHK(s.ldtr, 0x470);
VMCB_CHK(s.idtr, 0x480);
VMCB_CHK(s.tr, 0x490);
VMCB_CHK(s.cpl, 0x4cb);
VMCB_CHK(s.efer, 0x4d0);
VMCB_CHK(s.cr4, 0x548);
VMCB_CHK(s.cr3, 0x550);
VMCB_CHK(s.cr0, 0x558);
VMCB_CHK(s.dr7, 0x560);
VMCB_CHK(s.dr6, 0x568);
VMCB_CHK(s.rflags, 0x570);
VMCB_CHK(s.rip, 0x578);
VMCB_CHK(s.rsp, 0x5d8);
VMCB_CHK(s.rax, 0x5f8);
VMCB_CHK(s.star, 0x600);
VMCB_CHK(s.kernel_gs_base, 0x620);
VMCB_CHK(s.sysenter_cs, 0x628);
VMCB_CHK(s.sysenter_eip, 0x638);
VMCB_CHK(s.cr2, 0x640);
VMCB_CHK(s.g_pat, 0x668);
VMCB_CHK(s.lbr, 0x670);
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one 4 KiB page");
#undef VMCB_CHK

/* Vector 3 (offset 00Ch) intercepts. */
#define ICPT1_INTR       (1u << 0)
#define ICPT1_NMI        (1u << 1)
#define ICPT1_SMI        (1u << 2)
#define ICPT1_INIT       (1u << 3)
#define ICPT1_VINTR      (1u << 4)
#define ICPT1_CR0_SEL    (1u << 5)
#define ICPT1_IDTR_READ  (1u << 6)
#define ICPT1_GDTR_READ  (1u << 7)
#define ICPT1_LDTR_READ  (1u << 8)
#define ICPT1_TR_READ    (1u << 9)
#define ICPT1_IDTR_WRITE (1u << 10)
#define ICPT1_GDTR_WRITE (1u << 11)
#define ICPT1_LDTR_WRITE (1u << 12)
#define ICPT1_TR_WRITE   (1u << 13)
#define ICPT1_RDTSC      (1u << 14)
#define ICPT1_RDPMC      (1u << 15)
#define ICPT1_PUSHF      (1u << 16)
#define ICPT1_POPF       (1u << 17)
#define ICPT1_CPUID      (1u << 18)
#define ICPT1_RSM        (1u << 19)
#define ICPT1_IRET       (1u << 20)
#define ICPT1_INTN       (1u << 21)
#define ICPT1_INVD       (1u << 22)
#define ICPT1_PAUSE      (1u << 23)
#define ICPT1_HLT        (1u << 24)
#define ICPT1_INVLPG     (1u << 25)
#define ICPT1_INVLPGA    (1u << 26)
#define ICPT1_IOIO       (1u << 27)
#define ICPT1_MSR        (1u << 28)
#define ICPT1_TASKSW     (1u << 29)
#define ICPT1_FERR       (1u << 30)
#define ICPT1_SHUTDOWN   (1u << 31)

/* Vector 4 (offset 010h) intercepts. */
#define ICPT2_VMRUN       (1u << 0)
#define ICPT2_VMMCALL     (1u << 1)
#define ICPT2_VMLOAD      (1u << 2)
#define ICPT2_VMSAVE      (1u << 3)
#define ICPT2_STGI        (1u << 4)
#define ICPT2_CLGI        (1u << 5)
#define ICPT2_SKINIT      (1u << 6)
#define ICPT2_RDTSCP      (1u << 7)
#define ICPT2_ICEBP       (1u << 8)
#define ICPT2_WBINVD      (1u << 9)
#define ICPT2_MONITOR     (1u << 10)
#define ICPT2_MWAIT       (1u << 11)
#define ICPT2_MWAIT_ARMED (1u << 12)
#define ICPT2_XSETBV      (1u << 13)
#define ICPT2_RDPRU       (1u << 14)
#define ICPT2_EFER_TRAP   (1u << 15)

/* Vector 5 (offset 014h) intercepts. */
#define ICPT3_INVPCID (1u << 2)

/* virt_ext (offset 0B8h). */
#define VIRTEXT_LBR    (1ull << 0)
#define VIRTEXT_VMSAVE (1ull << 1)

/* int_ctl (offset 060h). */
#define INTCTL_V_TPR          0xffu
#define INTCTL_V_IRQ          (1u << 8)
#define INTCTL_VGIF           (1u << 9)
#define INTCTL_V_NMI          (1u << 11) /* vNMI pending */
#define INTCTL_V_NMI_MASK     (1u << 12) /* vNMI blocking */
#define INTCTL_V_PRIO_SHIFT   16
#define INTCTL_V_IGN_TPR      (1u << 20)
#define INTCTL_V_INTR_MASKING (1u << 24)
#define INTCTL_VGIF_ENABLE    (1u << 25)
#define INTCTL_V_NMI_ENABLE   (1u << 26)
#define INTCTL_AVIC           (1u << 31)

/* int_state (offset 068h). */
#define INTSTATE_SHADOW (1u << 0)

/* EVENTINJ / EXITINTINFO (APM Vol. 2 §15.20). */
#define EVT_VECTOR     0xffull
#define EVT_TYPE_SHIFT 8
#define EVT_TYPE_MASK  (7ull << 8)
#define EVT_EV         (1ull << 11)
#define EVT_V          (1ull << 31)
#define EVT_ERR_SHIFT  32
enum {
	EVT_INTR = 0,
	EVT_NMI = 2,
	EVT_EXC = 3,
	EVT_SOFT = 4
};

/* Exit codes (APM Vol. 2 Appendix C). */
enum svm_exit {
	SVM_EXIT_CR0_READ = 0x00,
	SVM_EXIT_CR0_WRITE = 0x10,
	SVM_EXIT_DR0_READ = 0x20,
	SVM_EXIT_DR0_WRITE = 0x30,
	SVM_EXIT_EXC0 = 0x40,
	SVM_EXIT_INTR = 0x60,
	SVM_EXIT_NMI = 0x61,
	SVM_EXIT_SMI = 0x62,
	SVM_EXIT_INIT = 0x63,
	SVM_EXIT_VINTR = 0x64,
	SVM_EXIT_CR0_SEL_WRITE = 0x65,
	SVM_EXIT_IDTR_READ = 0x66,
	SVM_EXIT_GDTR_READ = 0x67,
	SVM_EXIT_LDTR_READ = 0x68,
	SVM_EXIT_TR_READ = 0x69,
	SVM_EXIT_IDTR_WRITE = 0x6a,
	SVM_EXIT_GDTR_WRITE = 0x6b,
	SVM_EXIT_LDTR_WRITE = 0x6c,
	SVM_EXIT_TR_WRITE = 0x6d,
	SVM_EXIT_RDTSC = 0x6e,
	SVM_EXIT_RDPMC = 0x6f,
	SVM_EXIT_PUSHF = 0x70,
	SVM_EXIT_POPF = 0x71,
	SVM_EXIT_CPUID = 0x72,
	SVM_EXIT_RSM = 0x73,
	SVM_EXIT_IRET = 0x74,
	SVM_EXIT_SWINT = 0x75,
	SVM_EXIT_INVD = 0x76,
	SVM_EXIT_PAUSE = 0x77,
	SVM_EXIT_HLT = 0x78,
	SVM_EXIT_INVLPG = 0x79,
	SVM_EXIT_INVLPGA = 0x7a,
	SVM_EXIT_IOIO = 0x7b,
	SVM_EXIT_MSR = 0x7c,
	SVM_EXIT_TASK_SWITCH = 0x7d,
	SVM_EXIT_FERR_FREEZE = 0x7e,
	SVM_EXIT_SHUTDOWN = 0x7f,
	SVM_EXIT_VMRUN = 0x80,
	SVM_EXIT_VMMCALL = 0x81,
	SVM_EXIT_VMLOAD = 0x82,
	SVM_EXIT_VMSAVE = 0x83,
	SVM_EXIT_STGI = 0x84,
	SVM_EXIT_CLGI = 0x85,
	SVM_EXIT_SKINIT = 0x86,
	SVM_EXIT_RDTSCP = 0x87,
	SVM_EXIT_ICEBP = 0x88,
	SVM_EXIT_WBINVD = 0x89,
	SVM_EXIT_MONITOR = 0x8a,
	SVM_EXIT_MWAIT = 0x8b,
	SVM_EXIT_MWAIT_COND = 0x8c,
	SVM_EXIT_XSETBV = 0x8d,
	SVM_EXIT_RDPRU = 0x8e,
	SVM_EXIT_INVPCID = 0xa2,
	SVM_EXIT_NPF = 0x400,
};
#define SVM_EXIT_INVALID (~0ull) /* VMEXIT_INVALID: -1 */

/* IOIO EXITINFO1 (APM Vol. 2 §15.10.2, Figure 15-2). */
#define IOIO_IN         (1u << 0)
#define IOIO_STR        (1u << 2)
#define IOIO_REP        (1u << 3)
#define IOIO_SZ8        (1u << 4)
#define IOIO_SZ16       (1u << 5)
#define IOIO_SZ32       (1u << 6)
#define IOIO_A16        (1u << 7)
#define IOIO_A32        (1u << 8)
#define IOIO_A64        (1u << 9)
#define IOIO_SEG_SHIFT  10
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 bits above the #PF error code (APM Vol. 2 §15.25.6). */
#define NPF_FINAL (1ull << 32)
#define NPF_WALK  (1ull << 33)

/* VMCB clean bits (offset 0C0h, §15.15.3). */
enum {
	CLEAN_I = 0,     /* intercepts, TSC offset, pause filter */
	CLEAN_IOPM = 1,  /* IOPM_BASE, MSRPM_BASE */
	CLEAN_ASID = 2,  /* ASID */
	CLEAN_TPR = 3,   /* V_TPR, V_IRQ, V_INTR_*, V_GIF (int_ctl, int_vector) */
	CLEAN_NP = 4,    /* NP_ENABLE, N_CR3, G_PAT */
	CLEAN_CRX = 5,   /* CR0, CR3, CR4, EFER */
	CLEAN_DRX = 6,   /* DR6, DR7 */
	CLEAN_DT = 7,    /* GDTR, IDTR */
	CLEAN_SEG = 8,   /* ES, CS, SS, DS, CPL */
	CLEAN_CR2 = 9,   /* CR2 */
	CLEAN_LBR = 10,  /* DBGCTL, BR_FROM/TO, LASTEXCP_FROM/TO */
	CLEAN_AVIC = 11, /* (AVIC, not implemented) */
};

/* Sizes of the permission maps (APM Vol. 2 §15.10.1, §15.11). */
#define SVM_IOPM_SIZE  (12 * 1024)
#define SVM_IOPM_USED  (8 * 1024 + 1)
#define SVM_MSRPM_SIZE (8 * 1024)

/* Packed 12-bit attribute <-> our VMX-layout seg.attr (cpu/cpu.h). */
static inline uint16_t vmcb_attr_pack(uint32_t attr)
{
	return (uint16_t)((attr & 0xff) | ((attr >> 4) & 0xf00));
}
static inline uint32_t vmcb_attr_unpack(uint16_t a)
{
	return (uint32_t)(a & 0xff) | ((uint32_t)(a & 0xf00) << 4);
}

#endif
