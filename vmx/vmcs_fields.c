/*
 * vmx/vmcs_fields.c — the VMCS field table: every VMCS component encoding
 * nestbox supports (Intel SDM Vol. 3C Appendix B) mapped to its member of
 * struct vmcs, and the accessors derived from it (lookup, existence on a
 * vCPU, read/write with width and access type, IA32_VMX_VMCS_ENUM).
 *
 * This is the ONLY place encodings are listed (design brief §4). Each row
 * takes its size from the member itself, so the unit test can check it
 * against the width the encoding states (bits 14:13). Rows are sorted by
 * encoding for the binary search; the test checks that too.
 *
 * Omitted on purpose (no capability nestbox will report soon): HLAT, PASID,
 * tertiary controls, ENCLS/ENCLV bitmaps, sub-page permissions, PKRS, CET,
 * LBR, instruction timeout, UINV. Adding one = a member in struct vmcs (in
 * a reserved tail), a row here, and its NEED_ capability.
 */
#include <stddef.h>
#include <string.h>

#include "cpu/cpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_state.h"

#define F(enc, m, need)                                                                           \
	{                                                                                         \
		enc, offsetof(struct vmcs, m), sizeof(((struct vmcs *)0)->m), VF_SHADOW, need, #m \
	}
#define FAR(enc, m)                                                                              \
	{                                                                                        \
		enc, offsetof(struct vmcs, m), sizeof(((struct vmcs *)0)->m), VF_SHADOW | VF_AR, \
			NEED_NONE, #m                                                            \
	}
#define N NEED_NONE

const struct vmcs_field vmcs_fields[] = {
	/* 16-bit control fields (B.1.1) */
	F(0x0000, vpid, NEED_VPID),
	F(0x0002, posted_intr_nv, NEED_POSTED_INTR),
	F(0x0004, eptp_index, NEED_EPT_VE),
	/* 16-bit guest-state fields (B.1.2) */
	F(0x0800, guest_es_sel, N),
	F(0x0802, guest_cs_sel, N),
	F(0x0804, guest_ss_sel, N),
	F(0x0806, guest_ds_sel, N),
	F(0x0808, guest_fs_sel, N),
	F(0x080a, guest_gs_sel, N),
	F(0x080c, guest_ldtr_sel, N),
	F(0x080e, guest_tr_sel, N),
	F(0x0810, guest_intr_status, NEED_VID),
	F(0x0812, guest_pml_index, NEED_PML),
	/* 16-bit host-state fields (B.1.3) */
	F(0x0c00, host_es_sel, N),
	F(0x0c02, host_cs_sel, N),
	F(0x0c04, host_ss_sel, N),
	F(0x0c06, host_ds_sel, N),
	F(0x0c08, host_fs_sel, N),
	F(0x0c0a, host_gs_sel, N),
	F(0x0c0c, host_tr_sel, N),
	/* 64-bit control fields (B.2.1) */
	F(0x2000, io_bitmap_a, N),
	F(0x2002, io_bitmap_b, N),
	F(0x2004, msr_bitmap, NEED_MSR_BITMAPS),
	F(0x2006, exit_msr_store_addr, N),
	F(0x2008, exit_msr_load_addr, N),
	F(0x200a, entry_msr_load_addr, N),
	F(0x200c, executive_vmcs_ptr, N),
	F(0x200e, pml_address, NEED_PML),
	F(0x2010, tsc_offset, N),
	F(0x2012, virtual_apic_addr, NEED_TPR_SHADOW),
	F(0x2014, apic_access_addr, NEED_APIC_ACCESS),
	F(0x2016, posted_intr_desc_addr, NEED_POSTED_INTR),
	F(0x2018, vmfunc_controls, NEED_VMFUNC),
	F(0x201a, ept_pointer, NEED_EPT),
	F(0x201c, eoi_exit_bitmap[0], NEED_VID),
	F(0x201e, eoi_exit_bitmap[1], NEED_VID),
	F(0x2020, eoi_exit_bitmap[2], NEED_VID),
	F(0x2022, eoi_exit_bitmap[3], NEED_VID),
	F(0x2024, eptp_list_addr, NEED_EPTP_SWITCH),
	F(0x2026, vmread_bitmap, NEED_SHADOW_VMCS),
	F(0x2028, vmwrite_bitmap, NEED_SHADOW_VMCS),
	F(0x202a, ve_info_addr, NEED_EPT_VE),
	F(0x202c, xss_exit_bitmap, NEED_XSAVES),
	F(0x2032, tsc_multiplier, NEED_TSC_SCALING),
	/* 64-bit read-only data field (B.2.2) */
	F(0x2400, guest_phys_addr, NEED_EPT),
	/* 64-bit guest-state fields (B.2.3) */
	F(0x2800, vmcs_link_ptr, N),
	F(0x2802, guest_debugctl, N),
	F(0x2804, guest_pat, NEED_PAT),
	F(0x2806, guest_efer, NEED_EFER),
	F(0x2808, guest_perf_global_ctrl, NEED_PERF_GLOBAL),
	F(0x280a, guest_pdpte[0], NEED_EPT),
	F(0x280c, guest_pdpte[1], NEED_EPT),
	F(0x280e, guest_pdpte[2], NEED_EPT),
	F(0x2810, guest_pdpte[3], NEED_EPT),
	F(0x2812, guest_bndcfgs, NEED_BNDCFGS),
	F(0x2814, guest_rtit_ctl, NEED_RTIT),
	/* 64-bit host-state fields (B.2.4) */
	F(0x2c00, host_pat, NEED_HOST_PAT),
	F(0x2c02, host_efer, NEED_HOST_EFER),
	F(0x2c04, host_perf_global_ctrl, NEED_HOST_PERF_GLOBAL),
	/* 32-bit control fields (B.3.1) */
	F(0x4000, pin_controls, N),
	F(0x4002, proc_controls, N),
	F(0x4004, exception_bitmap, N),
	F(0x4006, pf_errcode_mask, N),
	F(0x4008, pf_errcode_match, N),
	F(0x400a, cr3_target_count, N),
	F(0x400c, exit_controls, N),
	F(0x400e, exit_msr_store_count, N),
	F(0x4010, exit_msr_load_count, N),
	F(0x4012, entry_controls, N),
	F(0x4014, entry_msr_load_count, N),
	F(0x4016, entry_intr_info, N),
	F(0x4018, entry_exc_errcode, N),
	F(0x401a, entry_insn_len, N),
	F(0x401c, tpr_threshold, NEED_TPR_SHADOW),
	F(0x401e, proc_controls2, NEED_SECONDARY),
	F(0x4020, ple_gap, NEED_PLE),
	F(0x4022, ple_window, NEED_PLE),
	/* 32-bit read-only data fields (B.3.2) */
	F(0x4400, vm_insn_error, N),
	F(0x4402, exit_reason, N),
	F(0x4404, exit_intr_info, N),
	F(0x4406, exit_intr_errcode, N),
	F(0x4408, idt_vectoring_info, N),
	F(0x440a, idt_vectoring_errcode, N),
	F(0x440c, exit_insn_len, N),
	F(0x440e, exit_insn_info, N),
	/* 32-bit guest-state fields (B.3.3) */
	F(0x4800, guest_es_limit, N),
	F(0x4802, guest_cs_limit, N),
	F(0x4804, guest_ss_limit, N),
	F(0x4806, guest_ds_limit, N),
	F(0x4808, guest_fs_limit, N),
	F(0x480a, guest_gs_limit, N),
	F(0x480c, guest_ldtr_limit, N),
	F(0x480e, guest_tr_limit, N),
	F(0x4810, guest_gdtr_limit, N),
	F(0x4812, guest_idtr_limit, N),
	FAR(0x4814, guest_es_ar),
	FAR(0x4816, guest_cs_ar),
	FAR(0x4818, guest_ss_ar),
	FAR(0x481a, guest_ds_ar),
	FAR(0x481c, guest_fs_ar),
	FAR(0x481e, guest_gs_ar),
	FAR(0x4820, guest_ldtr_ar),
	FAR(0x4822, guest_tr_ar),
	F(0x4824, guest_interruptibility, N),
	F(0x4826, guest_activity_state, N),
	F(0x4828, guest_smbase, N),
	F(0x482a, guest_sysenter_cs, N),
	F(0x482e, preemption_timer_value, NEED_PREEMPT_TIMER),
	/* 32-bit host-state field (B.3.4) */
	F(0x4c00, host_sysenter_cs, N),
	/* natural-width control fields (B.4.1) */
	F(0x6000, cr0_guest_host_mask, N),
	F(0x6002, cr4_guest_host_mask, N),
	F(0x6004, cr0_read_shadow, N),
	F(0x6006, cr4_read_shadow, N),
	F(0x6008, cr3_target[0], N),
	F(0x600a, cr3_target[1], N),
	F(0x600c, cr3_target[2], N),
	F(0x600e, cr3_target[3], N),
	/* natural-width read-only data fields (B.4.2) */
	F(0x6400, exit_qualification, N),
	F(0x6402, io_rcx, N),
	F(0x6404, io_rsi, N),
	F(0x6406, io_rdi, N),
	F(0x6408, io_rip, N),
	F(0x640a, guest_linear_addr, N),
	/* natural-width guest-state fields (B.4.3) */
	F(0x6800, guest_cr0, N),
	F(0x6802, guest_cr3, N),
	F(0x6804, guest_cr4, N),
	F(0x6806, guest_es_base, N),
	F(0x6808, guest_cs_base, N),
	F(0x680a, guest_ss_base, N),
	F(0x680c, guest_ds_base, N),
	F(0x680e, guest_fs_base, N),
	F(0x6810, guest_gs_base, N),
	F(0x6812, guest_ldtr_base, N),
	F(0x6814, guest_tr_base, N),
	F(0x6816, guest_gdtr_base, N),
	F(0x6818, guest_idtr_base, N),
	F(0x681a, guest_dr7, N),
	F(0x681c, guest_rsp, N),
	F(0x681e, guest_rip, N),
	F(0x6820, guest_rflags, N),
	F(0x6822, guest_pending_dbg, N),
	F(0x6824, guest_sysenter_esp, N),
	F(0x6826, guest_sysenter_eip, N),
	/* natural-width host-state fields (B.4.4) */
	F(0x6c00, host_cr0, N),
	F(0x6c02, host_cr3, N),
	F(0x6c04, host_cr4, N),
	F(0x6c06, host_fs_base, N),
	F(0x6c08, host_gs_base, N),
	F(0x6c0a, host_tr_base, N),
	F(0x6c0c, host_gdtr_base, N),
	F(0x6c0e, host_idtr_base, N),
	F(0x6c10, host_sysenter_esp, N),
	F(0x6c12, host_sysenter_eip, N),
	F(0x6c14, host_rsp, N),
	F(0x6c16, host_rip, N),
};

const unsigned vmcs_nfields = sizeof(vmcs_fields) / sizeof(vmcs_fields[0]);

#undef F
#undef FAR
#undef N

/* Access-rights bits that exist (Table 25-2): type, S, DPL, P, AVL, L,
 * D/B, G, unusable. The others are reserved; processors drop them on
 * VMWRITE, which makes a VMREAD return them as 0. */
#define AR_WRITABLE 0x1f0ffu

const struct vmcs_field *vmcs_field_find(uint32_t enc)
{
	enc &= ~1u;
	unsigned lo = 0, hi = vmcs_nfields;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (vmcs_fields[mid].enc == enc)
			return &vmcs_fields[mid];
		if (vmcs_fields[mid].enc < enc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool vmcs_field_exists(const struct cpu *cpu, const struct vmcs_field *f)
{
	struct vmx_caps tmp;
	const struct vmx_caps *c = vmx_caps_of(cpu, &tmp);
	unsigned i = (unsigned)(f - vmcs_fields);
	return i < VMCS_MAX_FIELDS && ((c->field_ok[i / 64] >> (i % 64)) & 1);
}

const struct vmcs_field *vmcs_resolve(const struct cpu *cpu, uint64_t enc, bool *high)
{
	/* Bits 63:32 (64-bit operand), 31:15 and 12 are reserved. */
	if (enc & ~0x6fffull)
		return NULL;
	const struct vmcs_field *f = vmcs_field_find((uint32_t)enc);
	if (!f)
		return NULL;
	*high = enc & 1;
	if (*high && vmcs_enc_width(f->enc) != VMCS_W64)
		return NULL;
	return vmcs_field_exists(cpu, f) ? f : NULL;
}

uint64_t vmcs_read(const struct vmcs *v, const struct vmcs_field *f, bool high)
{
	const uint8_t *p = (const uint8_t *)v + f->offset;
	switch (f->size) {
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	default: {
		uint64_t x;
		memcpy(&x, p, 8);
		return high ? x >> 32 : x;
	}
	}
}

void vmcs_write(struct vmcs *v, const struct vmcs_field *f, bool high, uint64_t val)
{
	uint8_t *p = (uint8_t *)v + f->offset;
	switch (f->size) {
	case 2: {
		uint16_t x = (uint16_t)val;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)val;
		if (f->flags & VF_AR)
			x &= AR_WRITABLE;
		memcpy(p, &x, 4);
		break;
	}
	default: {
		uint64_t x = val;
		if (high) {
			/* Access type high: the upper half only (§25.11.2). */
			memcpy(&x, p, 8);
			x = (x & 0xffffffffull) | (val << 32);
		}
		memcpy(p, &x, 8);
		break;
	}
	}
}

unsigned vmcs_max_index(const struct cpu *cpu)
{
	struct vmx_caps tmp;
	return (unsigned)(vmx_caps_get(vmx_caps_of(cpu, &tmp), MSR_IA32_VMX_VMCS_ENUM) >> 1) &
	       0x1ff;
}
