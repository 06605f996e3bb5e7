/*
 * tests/unit/test_vmx_entry.c — the VM-entry checks (vmx/vmx_entry_checks.c)
 * on a VMCS image built in C: a valid 64-bit host/guest passes all three
 * groups; each row of a table then breaks one field and names the group
 * that must fail (controls → VMfailValid 7, host → 8, guest → exit reason
 * 33 with its qualification), and no other group may fail.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/machine.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_state.h"

static struct machine *m;
static struct cpu *c;
static struct vmx_caps caps;

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1, .cpu_model = "max" };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	c = m->cpu[0];
	model_set(m->model, FEAT_VMX, true);
	c->msr.efer = EFER_LME | EFER_LMA; /* host in IA-32e mode */
	vmx_caps_compute(c, &caps);
}

static void teardown(void)
{
	machine_free(m);
}

static uint32_t ctl(uint32_t msr, uint32_t want)
{
	uint64_t v = vmx_caps_get(&caps, msr);
	return (want | (uint32_t)v) & (uint32_t)(v >> 32);
}

/* A valid VMCS: 64-bit host and guest with flat segments. */
static void valid_vmcs(struct vmcs *v)
{
	memset(v, 0, sizeof(*v));
	v->pin_controls = ctl(MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0);
	v->proc_controls = ctl(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_HLT | PROC_SECONDARY);
	v->proc_controls2 = ctl(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT);
	v->ept_pointer = 0x100000 | 6 | 3 << 3;
	v->exit_controls = ctl(MSR_IA32_VMX_TRUE_EXIT_CTLS, EXITC_HOST64);
	v->entry_controls = ctl(MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRYC_IA32E);
	v->vmcs_link_ptr = ~0ull;
	uint64_t cr0 = CR0_PE | CR0_NE | CR0_PG | CR0_ET, cr4 = CR4_PAE | CR4_VMXE;
	v->host_cr0 = v->guest_cr0 = cr0;
	v->host_cr4 = v->guest_cr4 = cr4;
	v->host_cr3 = v->guest_cr3 = 0x10000;
	v->host_cs_sel = 0x08;
	v->host_ss_sel = v->host_ds_sel = v->host_es_sel = v->host_fs_sel = v->host_gs_sel = 0x10;
	v->host_tr_sel = 0x28;
	v->host_rip = 0x200000;
	uint16_t *sel = &v->guest_es_sel;
	uint32_t *limit = &v->guest_es_limit, *ar = &v->guest_es_ar;
	for (int i = 0; i < S_NSEG; i++) {
		sel[i] = i == S_CS ? 0x08 : 0x10;
		limit[i] = 0xffffffff;
		ar[i] = i == S_CS ? 0xa09b : 0xc093;
	}
	v->guest_ldtr_ar = SEG_ATTR_UNUSABLE;
	v->guest_tr_sel = 0x28;
	v->guest_tr_limit = 0x67;
	v->guest_tr_ar = 0x8b;
	v->guest_gdtr_limit = 0x3f;
	v->guest_idtr_limit = 0xfff;
	v->guest_rip = 0x300000;
	v->guest_rflags = F_FIXED1;
}

enum grp {
	G_CTL,
	G_HOST,
	G_GUEST
};

struct bad {
	const char *what;
	void (*fn)(struct vmcs *v);
	enum grp grp;
	int qual; /* guest: qualification + 1 */
};

static void b_pin_rsvd(struct vmcs *v)
{
	v->pin_controls |= 1u << 12;
}
static void b_tpr_shadow_addr(struct vmcs *v)
{
	v->proc_controls |= PROC_TPR_SHADOW;
	v->virtual_apic_addr = 0x1008; /* not 4-KByte aligned (§27.2.1.1) */
}
static void b_cr3_count(struct vmcs *v)
{
	v->cr3_target_count = 5;
}
static void b_iobm(struct vmcs *v)
{
	v->proc_controls |= PROC_IO_BITMAPS;
	v->io_bitmap_a = 0x1234;
}
static void b_eptp_walk(struct vmcs *v)
{
	v->ept_pointer = 0x100000 | 6 | 2 << 3;
}
static void b_eptp_mt(struct vmcs *v)
{
	v->ept_pointer = 0x100000 | 1 | 3 << 3;
}
static void b_vpid0(struct vmcs *v)
{
	v->proc_controls2 |= PROC2_VPID;
}
static void b_ug_noept(struct vmcs *v)
{
	v->proc_controls2 = (v->proc_controls2 & ~PROC2_EPT) | PROC2_UG;
}
static void b_save_timer(struct vmcs *v)
{
	v->exit_controls |= EXITC_SAVE_PREEMPT;
}
static void b_msr_list(struct vmcs *v)
{
	v->entry_msr_load_count = 1;
	v->entry_msr_load_addr = 0x1008;
}
static void b_inj_type1(struct vmcs *v)
{
	v->entry_intr_info = INTR_INFO_VALID | 1u << 8;
}
static void b_inj_gp_noerr(struct vmcs *v)
{
	v->entry_intr_info = INTR_INFO_VALID | INTR_TYPE_HW_EXC << 8 | EXC_GP;
}
static void b_inj_len(struct vmcs *v)
{
	v->entry_intr_info = INTR_INFO_VALID | INTR_TYPE_SOFT_INT << 8 | 0x30;
	v->entry_insn_len = 16;
}
static void b_host_cr0(struct vmcs *v)
{
	v->host_cr0 &= ~CR0_NE;
}
static void b_host_cr4(struct vmcs *v)
{
	v->host_cr4 &= ~CR4_VMXE;
}
static void b_host_cs0(struct vmcs *v)
{
	v->host_cs_sel = 0;
}
static void b_host_tr_ti(struct vmcs *v)
{
	v->host_tr_sel = 0x2c;
}
static void b_host_rip(struct vmcs *v)
{
	v->host_rip = 0x0000800000000000ull;
}
static void b_host32(struct vmcs *v)
{
	v->exit_controls &= ~EXITC_HOST64;
}
static void b_host_efer(struct vmcs *v)
{
	v->exit_controls |= EXITC_LOAD_EFER;
	v->host_efer = EFER_LME;
}
static void b_g_cr0_pg(struct vmcs *v)
{
	v->guest_cr0 &= ~CR0_PE;
}
static void b_g_pae(struct vmcs *v)
{
	v->guest_cr4 &= ~CR4_PAE;
}
static void b_g_rflags(struct vmcs *v)
{
	v->guest_rflags = 0;
}
static void b_g_cs_type(struct vmcs *v)
{
	v->guest_cs_ar = 0xa093;
}
static void b_g_cs_ld(struct vmcs *v)
{
	v->guest_cs_ar |= SEG_ATTR_DB;
}
static void b_g_ss_dpl(struct vmcs *v)
{
	v->guest_ss_ar |= 3 << 5;
}
static void b_g_ds_g(struct vmcs *v)
{
	v->guest_ds_limit = 0xfffff000;
}
static void b_g_tr_type(struct vmcs *v)
{
	v->guest_tr_ar = 0x89;
}
static void b_g_rip(struct vmcs *v)
{
	v->guest_rip = 0x0000900000000000ull;
}
static void b_g_act(struct vmcs *v)
{
	v->guest_activity_state = 4; /* no such activity state */
}
static void b_g_shutdown_inj(struct vmcs *v)
{
	/* Only an NMI or #MC may be injected into the shutdown state. */
	v->guest_activity_state = 2;
	v->entry_intr_info = INTR_INFO_VALID | INTR_INFO_ERRCODE | INTR_TYPE_HW_EXC << 8 | EXC_GP;
	v->entry_exc_errcode = 0;
}
static void b_g_sipi_movss(struct vmcs *v)
{
	v->guest_activity_state = 3; /* wait-for-SIPI needs no STI/MOV-SS blocking */
	v->guest_interruptibility = 2;
}
static void b_g_sti_if(struct vmcs *v)
{
	v->guest_interruptibility = 1;
}
static void b_g_link(struct vmcs *v)
{
	v->vmcs_link_ptr = 0x5000;
}
static void b_g_gdtr(struct vmcs *v)
{
	v->guest_gdtr_limit = 0x10000;
}

static const struct bad bads[] = {
	{ "reserved pin control", b_pin_rsvd, G_CTL, 0 },
	{ "use TPR shadow, misaligned virtual-APIC address", b_tpr_shadow_addr, G_CTL, 0 },
	{ "CR3-target count 5", b_cr3_count, G_CTL, 0 },
	{ "unaligned I/O bitmap", b_iobm, G_CTL, 0 },
	{ "EPTP walk length 3", b_eptp_walk, G_CTL, 0 },
	{ "EPTP memory type 1", b_eptp_mt, G_CTL, 0 },
	{ "VPID 0", b_vpid0, G_CTL, 0 },
	{ "unrestricted guest without EPT", b_ug_noept, G_CTL, 0 },
	{ "save timer without timer", b_save_timer, G_CTL, 0 },
	{ "unaligned MSR-load list", b_msr_list, G_CTL, 0 },
	{ "injection type 1", b_inj_type1, G_CTL, 0 },
	{ "#GP injection without error code", b_inj_gp_noerr, G_CTL, 0 },
	{ "software interrupt length 16", b_inj_len, G_CTL, 0 },
	{ "host CR0.NE", b_host_cr0, G_HOST, 0 },
	{ "host CR4.VMXE", b_host_cr4, G_HOST, 0 },
	{ "host CS 0", b_host_cs0, G_HOST, 0 },
	{ "host TR.TI", b_host_tr_ti, G_HOST, 0 },
	{ "host RIP non-canonical", b_host_rip, G_HOST, 0 },
	{ "host address-space size 0 in IA-32e mode", b_host32, G_HOST, 0 },
	{ "host EFER.LMA != host size", b_host_efer, G_HOST, 0 },
	{ "guest CR0.PG without PE", b_g_cr0_pg, G_GUEST, 1 },
	{ "IA-32e guest without PAE", b_g_pae, G_GUEST, 1 },
	{ "guest RFLAGS bit 1", b_g_rflags, G_GUEST, 1 },
	{ "guest CS data type", b_g_cs_type, G_GUEST, 1 },
	{ "guest CS.L and CS.D", b_g_cs_ld, G_GUEST, 1 },
	{ "guest SS.DPL != RPL", b_g_ss_dpl, G_GUEST, 1 },
	{ "guest DS limit/G", b_g_ds_g, G_GUEST, 1 },
	{ "guest TR type 9", b_g_tr_type, G_GUEST, 1 },
	{ "guest RIP non-canonical", b_g_rip, G_GUEST, 1 },
	{ "guest activity state 4", b_g_act, G_GUEST, 1 },
	{ "#GP injected into shutdown", b_g_shutdown_inj, G_GUEST, 1 },
	{ "guest wait-for-SIPI with MOV-SS blocking", b_g_sipi_movss, G_GUEST, 1 },
	{ "guest STI blocking with IF = 0", b_g_sti_if, G_GUEST, 1 },
	{ "guest VMCS link pointer", b_g_link, G_GUEST, 5 },
	{ "guest GDTR limit", b_g_gdtr, G_GUEST, 1 },
};

START_TEST(t_valid)
{
	struct vmcs v;
	valid_vmcs(&v);
	ck_assert_int_eq(vmx_check_controls(c, &caps, &v), 0);
	ck_assert_int_eq(vmx_check_host(c, &caps, &v), 0);
	ck_assert_int_eq(vmx_check_guest(c, &caps, &v), 0);
}
END_TEST

START_TEST(t_bad)
{
	const struct bad *b = &bads[_i];
	struct vmcs v;
	valid_vmcs(&v);
	b->fn(&v);
	int ctl_r = vmx_check_controls(c, &caps, &v);
	int host_r = vmx_check_host(c, &caps, &v);
	int guest_r = vmx_check_guest(c, &caps, &v);
	ck_assert_msg(!!ctl_r == (b->grp == G_CTL), "%s: controls %d", b->what, ctl_r);
	ck_assert_msg(!!host_r == (b->grp == G_HOST), "%s: host %d", b->what, host_r);
	if (b->grp == G_GUEST)
		ck_assert_msg(guest_r == b->qual, "%s: guest %d want %d", b->what, guest_r,
			      b->qual);
	else
		ck_assert_msg(guest_r == 0, "%s: guest %d", b->what, guest_r);
}
END_TEST

/* The host outside IA-32e mode may not ask for a 64-bit host or guest. */
START_TEST(t_legacy_host)
{
	struct vmcs v;
	valid_vmcs(&v);
	c->msr.efer = 0;
	ck_assert_int_ne(vmx_check_host(c, &caps, &v), 0);
	v.exit_controls &= ~EXITC_HOST64;
	v.entry_controls &= ~ENTRYC_IA32E;
	v.host_cr4 &= ~CR4_PAE;
	ck_assert_int_eq(vmx_check_host(c, &caps, &v), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmx_entry");
	TCase *tc = tcase_create("checks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_valid);
	tcase_add_loop_test(tc, t_bad, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, t_legacy_host);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
