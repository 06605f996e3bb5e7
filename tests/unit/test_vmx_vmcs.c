/*
 * tests/unit/test_vmx_vmcs.c — the VMCS field table (vmx/vmcs_fields.c)
 * and the capability MSRs (vmx/vmx_caps.c):
 *   - table invariants: sorted, unique encodings and names; encodings
 *     well formed (access type full, reserved bits 0); member size equals
 *     the width of encoding bits 14:13; members inside struct vmcs, after
 *     the header, aligned, never overlapping; read-only = type 1;
 *   - lookup, existence per advertised capability, access type high;
 *   - vmcs_read/vmcs_write width, high half, access-rights masking;
 *   - capability MSRs: IA32_VMX_BASIC, default1 classes of the control MSRs
 *     and their TRUE variants (SDM Vol. 3C App. A.3-A.5), allowed-0 within
 *     allowed-1, MISC, fixed CR bits, VMCS_ENUM derived from the table,
 *     MSR existence rules, through msr_read()/msr_write() too.
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

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 4 << 20, .ncpus = 1, .cpu_model = "max" };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	c = m->cpu[0];
	model_set(m->model, FEAT_VMX, true);
}

static void teardown(void)
{
	vmx_free(c);
	machine_free(m);
}

static uint64_t cap(uint32_t idx)
{
	uint64_t v = 0;
	ck_assert_msg(vmx_msr_read(c, idx, &v), "MSR %#x should exist", idx);
	return v;
}

/* ---- table invariants ---- */

START_TEST(t_sorted_unique)
{
	ck_assert_uint_gt(vmcs_nfields, 100);
	ck_assert_uint_le(vmcs_nfields, VMCS_MAX_FIELDS);
	for (unsigned i = 1; i < vmcs_nfields; i++)
		ck_assert_msg(vmcs_fields[i - 1].enc < vmcs_fields[i].enc,
			      "encodings not strictly increasing at %s (%#x) / %s (%#x)",
			      vmcs_fields[i - 1].name, vmcs_fields[i - 1].enc, vmcs_fields[i].name,
			      vmcs_fields[i].enc);
	for (unsigned i = 0; i < vmcs_nfields; i++)
		for (unsigned j = i + 1; j < vmcs_nfields; j++)
			ck_assert_msg(strcmp(vmcs_fields[i].name, vmcs_fields[j].name) != 0,
				      "duplicate name %s", vmcs_fields[i].name);
}
END_TEST

START_TEST(t_encoding_well_formed)
{
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		const struct vmcs_field *f = &vmcs_fields[i];
		ck_assert_msg((f->enc & 1) == 0, "%s: access type must be full", f->name);
		ck_assert_msg((f->enc & ~0x6fffu) == 0, "%s: reserved encoding bits", f->name);
		ck_assert_msg(f->need < NEED_COUNT, "%s: bad need", f->name);
	}
}
END_TEST

START_TEST(t_width_matches_size)
{
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		const struct vmcs_field *f = &vmcs_fields[i];
		ck_assert_msg(f->size == vmcs_width_bytes(vmcs_enc_width(f->enc)),
			      "%s: member size %u but encoding %#x says width %u", f->name, f->size,
			      f->enc, vmcs_width_bytes(vmcs_enc_width(f->enc)));
		/* 16-bit fields really are 2 bytes, 32-bit 4 (natural = 8). */
		if (vmcs_enc_width(f->enc) == VMCS_W16)
			ck_assert_uint_eq(f->size, 2);
		if (vmcs_enc_width(f->enc) == VMCS_W32)
			ck_assert_uint_eq(f->size, 4);
	}
}
END_TEST

START_TEST(t_offsets)
{
	static uint8_t owner[sizeof(struct vmcs)];
	memset(owner, 0, sizeof(owner));
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		const struct vmcs_field *f = &vmcs_fields[i];
		ck_assert_msg(f->offset >= offsetof(struct vmcs, io_bitmap_a),
			      "%s overlaps the header", f->name);
		ck_assert_msg(f->offset + f->size <= sizeof(struct vmcs), "%s out of range",
			      f->name);
		ck_assert_msg(f->offset % f->size == 0, "%s misaligned", f->name);
		for (unsigned b = 0; b < f->size; b++) {
			ck_assert_msg(owner[f->offset + b] == 0, "%s overlaps another field",
				      f->name);
			owner[f->offset + b] = 1;
		}
	}
	ck_assert_uint_le(sizeof(struct vmcs), VMCS_REGION_SIZE);
}
END_TEST

START_TEST(t_readonly_types)
{
	unsigned nro = 0;
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		const struct vmcs_field *f = &vmcs_fields[i];
		bool ro = vmcs_enc_type(f->enc) == VMCS_T_RO;
		ck_assert_int_eq(vmcs_field_readonly(f), ro);
		nro += ro;
	}
	/* B.2.2 (1), B.3.2 (8), B.4.2 (6) */
	ck_assert_uint_eq(nro, 15);
	const struct vmcs_field *e = vmcs_field_find(0x4400);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->offset, offsetof(struct vmcs, vm_insn_error));
	ck_assert(vmcs_field_readonly(e));
	ck_assert(!vmcs_field_readonly(vmcs_field_find(0x681e))); /* guest RIP */
}
END_TEST

START_TEST(t_find)
{
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		ck_assert_ptr_eq(vmcs_field_find(vmcs_fields[i].enc), &vmcs_fields[i]);
		ck_assert_ptr_eq(vmcs_field_find(vmcs_fields[i].enc | 1), &vmcs_fields[i]);
	}
	/* Spot checks against SDM Appendix B. */
	ck_assert_uint_eq(vmcs_field_find(0x681e)->offset, offsetof(struct vmcs, guest_rip));
	ck_assert_uint_eq(vmcs_field_find(0x4002)->offset, offsetof(struct vmcs, proc_controls));
	ck_assert_uint_eq(vmcs_field_find(0x2800)->offset, offsetof(struct vmcs, vmcs_link_ptr));
	ck_assert_uint_eq(vmcs_field_find(0x0c02)->offset, offsetof(struct vmcs, host_cs_sel));
	ck_assert_uint_eq(vmcs_field_find(0x4826)->offset,
			  offsetof(struct vmcs, guest_activity_state));
	ck_assert_uint_eq(vmcs_field_find(0x6c16)->offset, offsetof(struct vmcs, host_rip));
	ck_assert_ptr_null(vmcs_field_find(0x0006));
	ck_assert_ptr_null(vmcs_field_find(0x482c));
	ck_assert_ptr_null(vmcs_field_find(0x6c18));
	ck_assert_ptr_null(vmcs_field_find(0xffff));
}
END_TEST

/* ---- existence and access ---- */

START_TEST(t_resolve)
{
	bool high = true;
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x681e, &high));
	ck_assert(!high);
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2011, &high)); /* TSC offset, high */
	ck_assert(high);
	ck_assert_ptr_null(vmcs_resolve(c, 0x681f, &high)); /* high of natural width */
	ck_assert_ptr_null(vmcs_resolve(c, 0x4003, &high)); /* high of 32-bit */
	ck_assert_ptr_null(vmcs_resolve(c, 0x0801, &high)); /* high of 16-bit */
	ck_assert_ptr_null(vmcs_resolve(c, 0x1ull << 32 | 0x681e, &high)); /* bits 63:32 */
	ck_assert_ptr_null(vmcs_resolve(c, 0x1000 | 0x681e, &high));       /* bit 12 */
	ck_assert_ptr_null(vmcs_resolve(c, 0x8000 | 0x681e, &high));       /* bit 15 */
	/* Existence per capability: EPT, VPID, preemption timer, PAT/EFER,
	 * APIC virtualization, posted interrupts and VMCS shadowing are
	 * implemented, and PML, PLE, VM functions; EPT-violation #VE and XSAVES exiting are not. */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x201a, &high)); /* EPT pointer */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x0000, &high)); /* VPID */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x482e, &high)); /* preemption timer */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2806, &high)); /* guest EFER */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2c00, &high)); /* host PAT */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x0812, &high)); /* PML index */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x200e, &high)); /* PML address */
	ck_assert_ptr_null(vmcs_resolve(c, 0x202a, &high));    /* #VE info address */
	ck_assert_ptr_null(vmcs_resolve(c, 0x202c, &high));    /* XSS-exiting bitmap */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2026, &high)); /* VMREAD bitmap */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2028, &high)); /* VMWRITE bitmap */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x0002, &high)); /* posted-intr vector */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2012, &high)); /* virtual-APIC address */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x0810, &high)); /* guest interrupt status */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x4020, &high)); /* PLE gap */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2018, &high)); /* VM-function controls */
	ck_assert_ptr_nonnull(vmcs_resolve(c, 0x2024, &high)); /* EPTP-list address */
}
END_TEST

START_TEST(t_read_write)
{
	static struct vmcs v;
	memset(&v, 0, sizeof(v));
	const struct vmcs_field *tsc = vmcs_field_find(0x2010);
	vmcs_write(&v, tsc, false, 0x1122334455667788ull);
	ck_assert_uint_eq(v.tsc_offset, 0x1122334455667788ull);
	ck_assert_uint_eq(vmcs_read(&v, tsc, true), 0x11223344u);
	vmcs_write(&v, tsc, true, 0xffffffffaabbccddull); /* only the low 32 bits count */
	ck_assert_uint_eq(v.tsc_offset, 0xaabbccdd55667788ull);
	ck_assert_uint_eq(vmcs_read(&v, tsc, false), 0xaabbccdd55667788ull);

	const struct vmcs_field *sel = vmcs_field_find(0x0800);
	vmcs_write(&v, sel, false, 0x12345);
	ck_assert_uint_eq(v.guest_es_sel, 0x2345);
	ck_assert_uint_eq(vmcs_read(&v, sel, false), 0x2345);
	ck_assert_uint_eq(v.guest_cs_sel, 0); /* neighbour untouched */

	const struct vmcs_field *lim = vmcs_field_find(0x4802);
	vmcs_write(&v, lim, false, 0xabcdef0012345678ull);
	ck_assert_uint_eq(vmcs_read(&v, lim, false), 0x12345678u);

	const struct vmcs_field *ar = vmcs_field_find(0x4816);
	vmcs_write(&v, ar, false, 0xffffffffu);
	ck_assert_uint_eq(v.guest_cs_ar, 0x1f0ffu);

	const struct vmcs_field *rip = vmcs_field_find(0x681e);
	vmcs_write(&v, rip, false, 0xffff800012345678ull);
	ck_assert_uint_eq(vmcs_read(&v, rip, false), 0xffff800012345678ull);
}
END_TEST

/* ---- capability MSRs ---- */

START_TEST(t_basic)
{
	uint64_t b = cap(MSR_IA32_VMX_BASIC);
	ck_assert_uint_eq(b & 0x7fffffff, VMX_REVISION_ID);
	ck_assert_uint_eq((b >> 31) & 1, 0);
	ck_assert_uint_eq((b >> 32) & 0x1fff, 4096);
	ck_assert_uint_eq((b >> 48) & 1, 0);  /* 64-bit physical addresses */
	ck_assert_uint_eq((b >> 49) & 1, 0);  /* no dual-monitor treatment */
	ck_assert_uint_eq((b >> 50) & 15, 6); /* write-back */
	ck_assert_uint_eq((b >> 54) & 1, 1);  /* INS/OUTS instruction information */
	ck_assert_uint_eq((b >> 55) & 1, 1);  /* TRUE controls */
}
END_TEST

START_TEST(t_controls)
{
	/* Default1 classes (SDM Vol. 3C App. A.3.1, A.3.2, A.4, A.5). */
	static const struct {
		uint32_t msr, tmsr;
		uint32_t def1, true_def1;
	} ctl[] = {
		{ MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x16, 0x16 },
		{ MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x0401e172,
		  0x04006172 },
		{ MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x00036dff, 0x00036dfb },
		{ MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x000011ff, 0x000011fb },
	};
	for (unsigned i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		uint64_t v = cap(ctl[i].msr), t = cap(ctl[i].tmsr);
		ck_assert_uint_eq((uint32_t)v, ctl[i].def1);
		ck_assert_uint_eq((uint32_t)t, ctl[i].true_def1);
		/* allowed-0 (must be 1) within allowed-1; TRUE same allowed-1 */
		ck_assert_uint_eq((uint32_t)v & ~(uint32_t)(v >> 32), 0);
		ck_assert_uint_eq(v >> 32, t >> 32);
		ck_assert_uint_eq((uint32_t)t & ~(uint32_t)v, 0);
	}
	uint32_t pin1 = (uint32_t)(cap(MSR_IA32_VMX_PINBASED_CTLS) >> 32);
	ck_assert(pin1 & 1);    /* external-interrupt exiting */
	ck_assert(pin1 & 8);    /* NMI exiting */
	ck_assert(pin1 & 0x80); /* posted interrupts */
	uint32_t proc1 = (uint32_t)(cap(MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	ck_assert(proc1 & (1u << 31));    /* secondary controls */
	ck_assert(!(proc1 & (1u << 17))); /* tertiary: not yet */
	ck_assert(!(proc1 & (1u << 18))); /* reserved */
	uint64_t p2 = cap(MSR_IA32_VMX_PROCBASED_CTLS2);
	ck_assert_uint_eq((uint32_t)p2, 0);  /* no default1 */
	ck_assert(p2 >> 32 & (1u << 1));     /* EPT */
	ck_assert(p2 >> 32 & (1u << 5));     /* VPID */
	ck_assert(p2 >> 32 & (1u << 7));     /* unrestricted guest */
	ck_assert(p2 >> 32 & (1u << 14));    /* VMCS shadowing */
	ck_assert(p2 >> 32 & (1u << 13));    /* VM functions */
	ck_assert(p2 >> 32 & (1u << 17));    /* PML */
	ck_assert(!(p2 >> 32 & (1u << 18))); /* #VE: not built */
	uint64_t vmfunc;
	ck_assert(vmx_msr_read(c, MSR_IA32_VMX_VMFUNC, &vmfunc));
	ck_assert_uint_eq(vmfunc, 1); /* EPTP switching only */
	uint64_t ept = cap(MSR_IA32_VMX_EPT_VPID_CAP);
	ck_assert(ept & (1ull << 6));     /* 4-level walk */
	ck_assert(ept & (1ull << 14));    /* WB */
	ck_assert(ept & (1ull << 20));    /* INVEPT */
	ck_assert(ept & (1ull << 32));    /* INVVPID */
	ck_assert(!(ept & (1ull << 24))); /* no INVEPT type 0 */
}
END_TEST

START_TEST(t_misc_fixed_enum)
{
	uint64_t misc = cap(MSR_IA32_VMX_MISC);
	ck_assert_uint_eq((misc >> 16) & 0x1ff, 4); /* CR3-target values */
	ck_assert(misc & (1ull << 29));             /* VMWRITE to any field */
	ck_assert(misc & (1ull << 6));              /* HLT activity state */
	ck_assert(misc & (1ull << 7));              /* shutdown activity state */
	ck_assert(misc & (1ull << 8));              /* wait-for-SIPI activity state */
	ck_assert_uint_eq(misc >> 32, 0);           /* MSEG revision */
	ck_assert_uint_eq(cap(MSR_IA32_VMX_CR0_FIXED0), 0x80000021);
	ck_assert_uint_eq(cap(MSR_IA32_VMX_CR0_FIXED1), 0xffffffff);
	ck_assert_uint_eq(cap(MSR_IA32_VMX_CR4_FIXED0), CR4_VMXE);
	ck_assert(cap(MSR_IA32_VMX_CR4_FIXED1) & CR4_VMXE);
	ck_assert(cap(MSR_IA32_VMX_CR4_FIXED1) & CR4_PAE);
	/* VMCS_ENUM = highest index of an existing field: recompute it. */
	unsigned max = 0;
	for (unsigned i = 0; i < vmcs_nfields; i++) {
		unsigned idx = vmcs_enc_index(vmcs_fields[i].enc);
		if (vmcs_field_exists(c, &vmcs_fields[i]) && idx > max)
			max = idx;
	}
	ck_assert_uint_eq(cap(MSR_IA32_VMX_VMCS_ENUM), (uint64_t)max << 1);
	ck_assert_uint_eq(vmcs_max_index(c), max);
	ck_assert_uint_eq(max, 0x19); /* the TSC multiplier, 0x2032 */
}
END_TEST

START_TEST(t_msr_routing)
{
	uint64_t v;
	ck_assert(msr_read(c, MSR_IA32_VMX_BASIC, &v));
	ck_assert_uint_eq(v & 0x7fffffff, VMX_REVISION_ID);
	ck_assert(!msr_write(c, MSR_IA32_VMX_BASIC, v)); /* read-only */
	ck_assert(msr_read(c, MSR_IA32_VMX_VMFUNC, &v));
	ck_assert(!msr_read(c, 0x492, &v));
	/* IA32_FEATURE_CONTROL: bit 2 writable with VMX, lock freezes it. */
	ck_assert(msr_write(c, 0x3a, 5));
	ck_assert(!msr_write(c, 0x3a, 1));
	ck_assert(msr_read(c, 0x3a, &v));
	ck_assert_uint_eq(v, 5);
	/* Without VMX the MSRs do not exist. */
	model_set(m->model, FEAT_VMX, false);
	ck_assert(!msr_read(c, MSR_IA32_VMX_BASIC, &v));
	ck_assert(!msr_read(c, MSR_IA32_VMX_CR0_FIXED0, &v));
}
END_TEST

/* QEMU's "-vmx-NAME" features take bits out of the capability MSRs. */
START_TEST(t_qemu_names)
{
	char err[128];
	ck_assert_msg(cpu_model_parse("max,-vmx-ept,-vmx-activity-shutdown,-vmx-mbec,+vmx-vpid",
				      m->model, err, sizeof(err)),
		      "%s", err);
	uint64_t p2 = cap(MSR_IA32_VMX_PROCBASED_CTLS2);
	ck_assert(!(p2 >> 32 & (1u << 1))); /* no EPT */
	ck_assert(p2 >> 32 & (1u << 5));    /* VPID stays */
	ck_assert(!(cap(MSR_IA32_VMX_MISC) & (1ull << 7)));
	ck_assert(cap(MSR_IA32_VMX_MISC) & (1ull << 6));
	/* Without EPT, EPT_VPID_CAP keeps only the VPID half. */
	ck_assert_uint_eq(cap(MSR_IA32_VMX_EPT_VPID_CAP) & 0xffffffffull, 0);
	struct cpu_model tmp;
	ck_assert(!cpu_model_parse("max,+vmx-mbec", &tmp, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not implemented"));
	ck_assert(!cpu_model_parse("max,-vmx-frob", &tmp, err, sizeof(err)));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmx_vmcs");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, t_sorted_unique);
	tcase_add_test(tc, t_encoding_well_formed);
	tcase_add_test(tc, t_width_matches_size);
	tcase_add_test(tc, t_offsets);
	tcase_add_test(tc, t_readonly_types);
	tcase_add_test(tc, t_find);
	suite_add_tcase(s, tc);
	TCase *tm = tcase_create("machine");
	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, t_resolve);
	tcase_add_test(tm, t_read_write);
	tcase_add_test(tm, t_basic);
	tcase_add_test(tm, t_controls);
	tcase_add_test(tm, t_misc_fixed_enum);
	tcase_add_test(tm, t_msr_routing);
	tcase_add_test(tm, t_qemu_names);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
