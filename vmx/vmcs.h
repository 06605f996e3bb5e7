/*
 * vmx/vmcs.h — the VMCS as nestbox stores it: one typed struct (struct vmcs)
 * and the field table that maps every supported VMCS component encoding
 * (Intel SDM Vol. 3C Appendix B) to its member (vmx/vmcs_fields.c, the ONLY
 * place encodings are listed; design brief §4).
 *
 * struct vmcs is also the format of a VMCS region in guest-physical memory:
 * VMCLEAR (and a VMPTRLD that replaces the current VMCS) writes the cached
 * copy back there, VMPTRLD reads it. The SDM leaves the region's format to
 * the implementation except for the first 8 bytes (§25.2):
 *
 *   offset 0   bits 30:0 VMCS revision identifier, bit 31 shadow-VMCS indicator
 *   offset 4   VMX-abort indicator
 *   offset 8   implementation-specific data (ours: launch state, then fields)
 *
 * Because the layout lives in guest memory (and later in snapshots), it is
 * frozen by the _Static_asserts below: append new fields in the reserved
 * tails of each group, never move existing ones. Natural-width fields are
 * stored as 64 bits.
 *
 * Encoding layout (SDM Vol. 3C §25.11.2, Table 25-21):
 *
 *   bit  0      access type (0 full, 1 high: upper 32 bits of a 64-bit field)
 *   bits 9:1    index
 *   bits 11:10  type: 0 control, 1 VM-exit information (read-only data),
 *               2 guest state, 3 host state
 *   bit  12     reserved (0)
 *   bits 14:13  width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *   bits 31:15  reserved (0)
 */
#ifndef NESTBOX_VMX_VMCS_H
#define NESTBOX_VMX_VMCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpu;

/* Launch state (SDM Vol. 3C §25.1): kept in the region so VMCLEAR of a
 * VMCS that is not current can set it to "clear" in memory. */
enum {
	VMCS_LAUNCH_CLEAR = 0,
	VMCS_LAUNCHED = 1
};

struct vmcs {
	/* --- header (architectural offsets 0 and 4) --- */
	uint32_t revision;
	uint32_t abort;
	uint32_t launch_state;
	uint32_t hdr_rsvd;

	/* --- 64-bit control fields --- */
	uint64_t io_bitmap_a;
	uint64_t io_bitmap_b;
	uint64_t msr_bitmap;
	uint64_t exit_msr_store_addr;
	uint64_t exit_msr_load_addr;
	uint64_t entry_msr_load_addr;
	uint64_t executive_vmcs_ptr;
	uint64_t pml_address;
	uint64_t tsc_offset;
	uint64_t virtual_apic_addr;
	uint64_t apic_access_addr;
	uint64_t posted_intr_desc_addr;
	uint64_t vmfunc_controls;
	uint64_t ept_pointer;
	uint64_t eoi_exit_bitmap[4];
	uint64_t eptp_list_addr;
	uint64_t vmread_bitmap;
	uint64_t vmwrite_bitmap;
	uint64_t ve_info_addr;
	uint64_t xss_exit_bitmap;
	uint64_t tsc_multiplier;
	uint64_t ctl64_rsvd[8];

	/* --- 64-bit read-only data --- */
	uint64_t guest_phys_addr;
	uint64_t ro64_rsvd[3];

	/* --- 64-bit guest state --- */
	uint64_t vmcs_link_ptr;
	uint64_t guest_debugctl;
	uint64_t guest_pat;
	uint64_t guest_efer;
	uint64_t guest_perf_global_ctrl;
	uint64_t guest_pdpte[4];
	uint64_t guest_bndcfgs;
	uint64_t guest_rtit_ctl;
	uint64_t guest64_rsvd[8];

	/* --- 64-bit host state --- */
	uint64_t host_pat;
	uint64_t host_efer;
	uint64_t host_perf_global_ctrl;
	uint64_t host64_rsvd[5];

	/* --- natural-width control fields --- */
	uint64_t cr0_guest_host_mask;
	uint64_t cr4_guest_host_mask;
	uint64_t cr0_read_shadow;
	uint64_t cr4_read_shadow;
	uint64_t cr3_target[4];
	uint64_t ctln_rsvd[4];

	/* --- natural-width read-only data --- */
	uint64_t exit_qualification;
	uint64_t io_rcx;
	uint64_t io_rsi;
	uint64_t io_rdi;
	uint64_t io_rip;
	uint64_t guest_linear_addr;
	uint64_t ron_rsvd[2];

	/* --- natural-width guest state --- */
	uint64_t guest_cr0;
	uint64_t guest_cr3;
	uint64_t guest_cr4;
	uint64_t guest_es_base;
	uint64_t guest_cs_base;
	uint64_t guest_ss_base;
	uint64_t guest_ds_base;
	uint64_t guest_fs_base;
	uint64_t guest_gs_base;
	uint64_t guest_ldtr_base;
	uint64_t guest_tr_base;
	uint64_t guest_gdtr_base;
	uint64_t guest_idtr_base;
	uint64_t guest_dr7;
	uint64_t guest_rsp;
	uint64_t guest_rip;
	uint64_t guest_rflags;
	uint64_t guest_pending_dbg;
	uint64_t guest_sysenter_esp;
	uint64_t guest_sysenter_eip;
	uint64_t guestn_rsvd[8];

	/* --- natural-width host state --- */
	uint64_t host_cr0;
	uint64_t host_cr3;
	uint64_t host_cr4;
	uint64_t host_fs_base;
	uint64_t host_gs_base;
	uint64_t host_tr_base;
	uint64_t host_gdtr_base;
	uint64_t host_idtr_base;
	uint64_t host_sysenter_esp;
	uint64_t host_sysenter_eip;
	uint64_t host_rsp;
	uint64_t host_rip;
	uint64_t hostn_rsvd[8];

	/* --- 32-bit control fields --- */
	uint32_t pin_controls;
	uint32_t proc_controls;
	uint32_t exception_bitmap;
	uint32_t pf_errcode_mask;
	uint32_t pf_errcode_match;
	uint32_t cr3_target_count;
	uint32_t exit_controls;
	uint32_t exit_msr_store_count;
	uint32_t exit_msr_load_count;
	uint32_t entry_controls;
	uint32_t entry_msr_load_count;
	uint32_t entry_intr_info;
	uint32_t entry_exc_errcode;
	uint32_t entry_insn_len;
	uint32_t tpr_threshold;
	uint32_t proc_controls2;
	uint32_t ple_gap;
	uint32_t ple_window;
	uint32_t ctl32_rsvd[6];

	/* --- 32-bit read-only data --- */
	uint32_t vm_insn_error;
	uint32_t exit_reason;
	uint32_t exit_intr_info;
	uint32_t exit_intr_errcode;
	uint32_t idt_vectoring_info;
	uint32_t idt_vectoring_errcode;
	uint32_t exit_insn_len;
	uint32_t exit_insn_info;

	/* --- 32-bit guest state --- */
	uint32_t guest_es_limit;
	uint32_t guest_cs_limit;
	uint32_t guest_ss_limit;
	uint32_t guest_ds_limit;
	uint32_t guest_fs_limit;
	uint32_t guest_gs_limit;
	uint32_t guest_ldtr_limit;
	uint32_t guest_tr_limit;
	uint32_t guest_gdtr_limit;
	uint32_t guest_idtr_limit;
	uint32_t guest_es_ar;
	uint32_t guest_cs_ar;
	uint32_t guest_ss_ar;
	uint32_t guest_ds_ar;
	uint32_t guest_fs_ar;
	uint32_t guest_gs_ar;
	uint32_t guest_ldtr_ar;
	uint32_t guest_tr_ar;
	uint32_t guest_interruptibility;
	uint32_t guest_activity_state;
	uint32_t guest_smbase;
	uint32_t guest_sysenter_cs;
	uint32_t preemption_timer_value;
	uint32_t guest32_rsvd[9];

	/* --- 32-bit host state --- */
	uint32_t host_sysenter_cs;
	uint32_t host32_rsvd[3];

	/* --- 16-bit control fields --- */
	uint16_t vpid;
	uint16_t posted_intr_nv;
	uint16_t eptp_index;
	uint16_t ctl16_rsvd[5];

	/* --- 16-bit guest state --- */
	uint16_t guest_es_sel;
	uint16_t guest_cs_sel;
	uint16_t guest_ss_sel;
	uint16_t guest_ds_sel;
	uint16_t guest_fs_sel;
	uint16_t guest_gs_sel;
	uint16_t guest_ldtr_sel;
	uint16_t guest_tr_sel;
	uint16_t guest_intr_status;
	uint16_t guest_pml_index;
	uint16_t guest16_rsvd[6];

	/* --- 16-bit host state --- */
	uint16_t host_es_sel;
	uint16_t host_cs_sel;
	uint16_t host_ss_sel;
	uint16_t host_ds_sel;
	uint16_t host_fs_sel;
	uint16_t host_gs_sel;
	uint16_t host_tr_sel;
	uint16_t host16_rsvd[1];
};

/* Frozen layout (see the header comment): the region is 4096 bytes
 * (IA32_VMX_BASIC[44:32]) and the data must fit in it. */
#define VMCS_REGION_SIZE 4096u
_Static_assert(offsetof(struct vmcs, revision) == 0, "VMCS revision at offset 0 (SDM §25.2)");
_Static_assert(offsetof(struct vmcs, abort) == 4, "VMX-abort indicator at offset 4");
_Static_assert(offsetof(struct vmcs, launch_state) == 8, "frozen layout");
_Static_assert(offsetof(struct vmcs, io_bitmap_a) == 0x10, "frozen layout");
_Static_assert(offsetof(struct vmcs, guest_phys_addr) == 0x110, "frozen layout");
_Static_assert(offsetof(struct vmcs, vmcs_link_ptr) == 0x130, "frozen layout");
_Static_assert(offsetof(struct vmcs, host_pat) == 0x1c8, "frozen layout");
_Static_assert(offsetof(struct vmcs, cr0_guest_host_mask) == 0x208, "frozen layout");
_Static_assert(offsetof(struct vmcs, exit_qualification) == 0x268, "frozen layout");
_Static_assert(offsetof(struct vmcs, guest_cr0) == 0x2a8, "frozen layout");
_Static_assert(offsetof(struct vmcs, host_cr0) == 0x388, "frozen layout");
_Static_assert(offsetof(struct vmcs, pin_controls) == 0x428, "frozen layout");
_Static_assert(offsetof(struct vmcs, vm_insn_error) == 0x488, "frozen layout");
_Static_assert(offsetof(struct vmcs, guest_es_limit) == 0x4a8, "frozen layout");
_Static_assert(offsetof(struct vmcs, host_sysenter_cs) == 0x528, "frozen layout");
_Static_assert(offsetof(struct vmcs, vpid) == 0x538, "frozen layout");
_Static_assert(offsetof(struct vmcs, guest_es_sel) == 0x548, "frozen layout");
_Static_assert(offsetof(struct vmcs, host_es_sel) == 0x568, "frozen layout");
_Static_assert(sizeof(struct vmcs) == 0x578, "frozen layout");
_Static_assert(sizeof(struct vmcs) <= VMCS_REGION_SIZE, "VMCS data must fit in its region");

/* ---- encodings ---- */

enum vmcs_width {
	VMCS_W16 = 0,
	VMCS_W64 = 1,
	VMCS_W32 = 2,
	VMCS_WNAT = 3
};
enum vmcs_type {
	VMCS_T_CONTROL = 0,
	VMCS_T_RO = 1,
	VMCS_T_GUEST = 2,
	VMCS_T_HOST = 3
};

static inline enum vmcs_width vmcs_enc_width(uint32_t enc)
{
	return (enum vmcs_width)((enc >> 13) & 3);
}
static inline enum vmcs_type vmcs_enc_type(uint32_t enc)
{
	return (enum vmcs_type)((enc >> 10) & 3);
}
static inline unsigned vmcs_enc_index(uint32_t enc)
{
	return (enc >> 1) & 0x1ff;
}
/* Bytes a field of this width occupies in struct vmcs. */
static inline unsigned vmcs_width_bytes(enum vmcs_width w)
{
	return w == VMCS_W16 ? 2 : w == VMCS_W32 ? 4 : 8;
}

/*
 * What a field's existence depends on: the field exists on this vCPU only if
 * the capability it belongs to is advertised (SDM Vol. 3C App. B: "this
 * field exists only on processors that support the 1-setting of ..."). The
 * predicate is vmx_cap_has() in vmx/vmx_caps.c.
 */
enum vmx_need {
	NEED_NONE = 0,
	NEED_SECONDARY, /* "activate secondary controls" */
	NEED_VPID,
	NEED_EPT,
	NEED_POSTED_INTR,
	NEED_EPT_VE, /* "EPT-violation #VE" */
	NEED_VID,    /* "virtual-interrupt delivery" */
	NEED_PML,
	NEED_MSR_BITMAPS,
	NEED_TPR_SHADOW,
	NEED_APIC_ACCESS, /* "virtualize APIC accesses" */
	NEED_VMFUNC,
	NEED_EPTP_SWITCH, /* VM function 0 */
	NEED_SHADOW_VMCS,
	NEED_XSAVES,
	NEED_TSC_SCALING,
	NEED_PAT,         /* load or save IA32_PAT on entry / exit */
	NEED_HOST_PAT,    /* "load IA32_PAT" exit control */
	NEED_EFER,        /* load or save IA32_EFER on entry / exit */
	NEED_HOST_EFER,   /* "load IA32_EFER" exit control */
	NEED_PERF_GLOBAL, /* load IA32_PERF_GLOBAL_CTRL on entry */
	NEED_HOST_PERF_GLOBAL,
	NEED_BNDCFGS,
	NEED_RTIT,
	NEED_PLE,
	NEED_PREEMPT_TIMER,
	NEED_COUNT
};

/* vmcs_field.flags */
#define VF_SHADOW                                                       \
	0x01 /* may live in a shadow VMCS (VMREAD/VMWRITE bitmaps in    \
		non-root operation, SDM §25.10). Every architectural   \
		field is; the flag lets a field opt out if nestbox ever \
		has to keep one synchronously in the vCPU. */
#define VF_AR                                                  \
	0x02 /* segment access rights: bits 31:17 and 11:8 are \
		reserved and dropped on VMWRITE, as processors do */

struct vmcs_field {
	uint32_t enc;    /* encoding with access type full (bit 0 = 0) */
	uint16_t offset; /* offsetof(struct vmcs, member) */
	uint8_t size;    /* sizeof(member): 2, 4 or 8 (checked against bits 14:13) */
	uint8_t flags;   /* VF_* */
	uint8_t need;    /* enum vmx_need */
	const char *name;
};

/* The field table, sorted by encoding (tests check order and invariants). */
extern const struct vmcs_field vmcs_fields[];
extern const unsigned vmcs_nfields;

/* Table row for an encoding (access type bit ignored), or NULL. Pure table
 * lookup: does not check existence on a particular vCPU. */
const struct vmcs_field *vmcs_field_find(uint32_t enc);

/* Is the field read-only data (VM-exit information)? */
static inline bool vmcs_field_readonly(const struct vmcs_field *f)
{
	return vmcs_enc_type(f->enc) == VMCS_T_RO;
}

/*
 * Resolve the encoding a VMREAD/VMWRITE names on this vCPU (SDM Vol. 3C
 * §25.11.2): bits 63:32 of the operand must be 0, the reserved bits of the
 * encoding too, the access type "high" is valid only for 64-bit fields, and
 * the field must exist with the advertised capabilities. Returns the row
 * (and *high = access type high) or NULL: "unsupported VMCS component".
 */
const struct vmcs_field *vmcs_resolve(const struct cpu *cpu, uint64_t enc, bool *high);

/* Does this field exist on this vCPU (capability check only)? */
bool vmcs_field_exists(const struct cpu *cpu, const struct vmcs_field *f);

/* Read / write a field of a VMCS image, honouring width and access type
 * (VMREAD / VMWRITE semantics except for operand size: a 32-bit write of a
 * wider field is the caller's zero extension). */
uint64_t vmcs_read(const struct vmcs *v, const struct vmcs_field *f, bool high);
void vmcs_write(struct vmcs *v, const struct vmcs_field *f, bool high, uint64_t val);

/* Highest index (bits 9:1) of any field that exists on this vCPU, as
 * IA32_VMX_VMCS_ENUM reports it (SDM Vol. 3C App. A.9). */
unsigned vmcs_max_index(const struct cpu *cpu);

#endif
