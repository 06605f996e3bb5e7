/*
 * tests/unit/test_cpuid.c — CPU models and CPUID: cpu_model_parse (names,
 * +feat/-feat/feat=on|off, errors), leaf contents (vendor, signature,
 * APIC ID, XSAVE, TSC, brand, address sizes), consistency of every feature
 * word with model_has(), and the vendors' out-of-range behaviour.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/machine.h"

static struct cpu_model model;

static struct cpu *mkcpu(const char *spec, int index)
{
	char err[128];
	ck_assert_msg(cpu_model_parse(spec, &model, err, sizeof(err)), "%s: %s", spec, err);
	struct cpu *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->model = &model;
	c->index = index;
	c->msr.apic_base = 0xfee00900;
	return c;
}

static void q(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid_query(c, leaf, sub, r);
}

START_TEST(parse_models)
{
	struct cpu_model m;
	char err[128];
	ck_assert(cpu_model_parse("intel", &m, err, sizeof(err)));
	ck_assert_int_eq(m.vendor, VENDOR_INTEL);
	ck_assert_uint_eq(m.family, 6);
	ck_assert(model_has(&m, FEAT_SSE42) && model_has(&m, FEAT_POPCNT));
	ck_assert(model_has(&m, FEAT_LM) && model_has(&m, FEAT_NX) && model_has(&m, FEAT_X2APIC));
	ck_assert(model_has(&m, FEAT_VMX) && !model_has(&m, FEAT_SVM));
	ck_assert(!model_has(&m, FEAT_HYPERVISOR) && !model_has(&m, FEAT_LA57));
	ck_assert(!model_has(&m, FEAT_MONITOR) && !model_has(&m, FEAT_PKU));
	ck_assert(!model_has(&m, FEAT_XSAVES) && !model_has(&m, FEAT_CR8_LEGACY));
	ck_assert_uint_eq(m.tsc_hz, 2000000000ull);
	ck_assert_uint_eq(m.phys_addr_bits, 40);

	ck_assert(cpu_model_parse("amd", &m, err, sizeof(err)));
	ck_assert_int_eq(m.vendor, VENDOR_AMD);
	ck_assert_uint_ge(m.family, 0x17);
	ck_assert(model_has(&m, FEAT_CR8_LEGACY));
	ck_assert(model_has(&m, FEAT_SVM) && model_has(&m, FEAT_NPT) && model_has(&m, FEAT_SVML));
	ck_assert(cpu_model_parse("intel,+svm", &m, err, sizeof(err)));
	ck_assert(model_has(&m, FEAT_SVM) && m.max_ext_leaf >= 0x8000000a);

	ck_assert(cpu_model_parse("max", &m, err, sizeof(err)));
	ck_assert_int_eq(m.vendor, VENDOR_INTEL);
	ck_assert(model_has(&m, FEAT_RDRAND));
}
END_TEST

START_TEST(parse_edits)
{
	struct cpu_model m;
	char err[128];
	ck_assert(cpu_model_parse("intel,-sse4_2,+la57,popcnt=off,pni=off", &m, err, sizeof(err)));
	ck_assert(!model_has(&m, FEAT_SSE42));
	ck_assert(model_has(&m, FEAT_LA57));
	ck_assert(!model_has(&m, FEAT_POPCNT));
	ck_assert(!model_has(&m, FEAT_SSE3));
	ck_assert(model_has(&m, FEAT_SSE41));
	ck_assert(cpu_model_parse("amd,lzcnt=off,+sse4.2", &m, err, sizeof(err)));
	ck_assert(!model_has(&m, FEAT_ABM));
	/* Turning XSAVE off removes what depends on it. */
	ck_assert(cpu_model_parse("max,-xsave", &m, err, sizeof(err)));
	ck_assert(!model_has(&m, FEAT_XSAVEOPT) && !model_has(&m, FEAT_XGETBV1));
	/* Unimplemented features may be switched off. */
	ck_assert(cpu_model_parse("intel,-vmx,svm=off", &m, err, sizeof(err)));
}
END_TEST

START_TEST(parse_errors)
{
	struct cpu_model m;
	char err[128];
	m.family = 1234;
	ck_assert(!cpu_model_parse("intel,+foobar", &m, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "foobar"));
	ck_assert_uint_eq(m.family, 1234); /* output untouched on error */
	ck_assert(!cpu_model_parse("intel,+fsrm", &m, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not implemented"));
	ck_assert(!cpu_model_parse("amd,sse4a=on", &m, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "sse4a"));
	ck_assert(!cpu_model_parse("pentium", &m, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "pentium"));
	ck_assert(!cpu_model_parse("intel,sse4_2=maybe", &m, err, sizeof(err)));
	ck_assert(!cpu_model_parse("intel,sse4_2", &m, err, sizeof(err)));
	ck_assert(!cpu_model_parse("intel,", &m, err, sizeof(err)));
	ck_assert(!cpu_model_parse("intel,+", &m, err, sizeof(err)));
}
END_TEST

START_TEST(leaf0_vendor)
{
	uint32_t r[4];
	char v[13] = { 0 };
	struct cpu *c = mkcpu("intel", 0);
	q(c, 0, 0, r);
	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	ck_assert_str_eq(v, "GenuineIntel");
	ck_assert_uint_eq(r[0], model.max_leaf);
	free(c);
	c = mkcpu("amd", 0);
	q(c, 0, 0, r);
	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	ck_assert_str_eq(v, "AuthenticAMD");
	q(c, 0x80000000, 0, r);
	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	ck_assert_str_eq(v, "AuthenticAMD");
	free(c);
}
END_TEST

START_TEST(leaf1_signature)
{
	uint32_t r[4];
	struct cpu *c = mkcpu("intel", 3);
	q(c, 1, 0, r);
	ck_assert_uint_eq(r[0], 0x000506e3);      /* family 6, model 5Eh, stepping 3 */
	ck_assert_uint_eq((r[1] >> 8) & 0xff, 8); /* CLFLUSH 64 bytes */
	ck_assert_uint_eq(r[1] >> 24, 3);         /* APIC ID */
	ck_assert(!(r[2] & (1u << 27)));          /* OSXSAVE follows CR4 */
	ck_assert(!(r[2] & (1u << 31)));          /* not a hypervisor guest */
	c->cr4 |= CR4_OSXSAVE;
	q(c, 1, 0, r);
	ck_assert(r[2] & (1u << 27));
	ck_assert(r[3] & (1u << 9)); /* APIC enabled */
	c->msr.apic_base &= ~(1ull << 11);
	q(c, 1, 0, r);
	ck_assert(!(r[3] & (1u << 9)));
	free(c);
	c = mkcpu("amd", 0);
	q(c, 1, 0, r);
	/* family 19h = 0Fh + 0Ah; model 21h */
	ck_assert_uint_eq((r[0] >> 8) & 0xf, 0xf);
	ck_assert_uint_eq(((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff), model.family);
	ck_assert_uint_eq(((r[0] >> 4) & 0xf) | ((r[0] >> 12) & 0xf0), model.model);
	uint32_t r81[4];
	q(c, 0x80000001, 0, r81);
	ck_assert_uint_eq(r81[0], r[0]);
	free(c);
}
END_TEST

/* Where each feature word lives in CPUID. */
static const struct {
	int word;
	uint32_t leaf, sub;
	int reg;
} word_loc[] = {
	{ FW_1_EDX, 1, 0, 3 },           { FW_1_ECX, 1, 0, 2 },    { FW_7_EBX, 7, 0, 1 },
	{ FW_7_ECX, 7, 0, 2 },           { FW_7_EDX, 7, 0, 3 },    { FW_81_EDX, 0x80000001, 0, 3 },
	{ FW_81_ECX, 0x80000001, 0, 2 }, { FW_D1_EAX, 0xd, 1, 0 },
};

static const char *const model_names[] = { "intel", "amd", "max", "intel,-sse4_2,+la57",
					   "amd,-nx,-rdrand" };

START_TEST(feature_words_match)
{
	struct cpu *c = mkcpu(model_names[_i], 0);
	for (size_t w = 0; w < sizeof(word_loc) / sizeof(word_loc[0]); w++) {
		uint32_t r[4];
		q(c, word_loc[w].leaf, word_loc[w].sub, r);
		for (int b = 0; b < 32; b++) {
			unsigned f = FEAT(word_loc[w].word, b);
			bool in_cpuid = (r[word_loc[w].reg] >> b) & 1;
			/* Dynamic bits: HTT (CPU count), OSXSAVE (CR4). */
			if (f == FEAT_HTT || f == FEAT_OSXSAVE)
				continue;
			/* AMD mirrors leaf 1 EDX bits in 80000001h EDX. */
			if (model.vendor == VENDOR_AMD && word_loc[w].word == FW_81_EDX &&
			    in_cpuid && !model_has(&model, f)) {
				ck_assert(model_has(&model, FEAT(FW_1_EDX, b)));
				continue;
			}
			ck_assert_msg(in_cpuid == model_has(&model, f),
				      "%s: word %d bit %d cpuid %d model %d", model_names[_i],
				      word_loc[w].word, b, in_cpuid, model_has(&model, f));
		}
	}
	free(c);
}
END_TEST

START_TEST(leaf_xsave)
{
	uint32_t r[4];
	struct cpu *c = mkcpu("intel", 0);
	q(c, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 3);
	ck_assert_uint_eq(r[1], 576);
	ck_assert_uint_eq(r[2], 576);
	ck_assert_uint_eq(r[3], 0);
	q(c, 0xd, 1, r);
	ck_assert_uint_eq(r[0] & 7, 7); /* XSAVEOPT XSAVEC XGETBV1 */
	ck_assert(!(r[0] & 8));         /* no XSAVES */
	q(c, 0xd, 2, r);
	ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0); /* no AVX state */
	free(c);
	c = mkcpu("intel,-xsave", 0);
	q(c, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 0);
	free(c);
}
END_TEST

START_TEST(leaf_tsc_freq)
{
	uint32_t r[4];
	struct cpu *c = mkcpu("intel", 0);
	q(c, 0x15, 0, r);
	ck_assert_uint_ne(r[0], 0);
	ck_assert_uint_eq((uint64_t)r[2] * r[1] / r[0], model.tsc_hz);
	q(c, 0x16, 0, r);
	ck_assert_uint_eq(r[0], 2000);
	q(c, 0x80000007, 0, r);
	ck_assert(r[3] & (1u << 8)); /* invariant TSC */
	free(c);
}
END_TEST

START_TEST(leaf_topology)
{
	uint32_t r[4];
	struct cpu *c = mkcpu("intel", 5);
	q(c, 0xb, 0, r);
	ck_assert_uint_eq(r[3], 5);
	ck_assert_uint_eq((r[2] >> 8) & 0xff, 1); /* SMT level */
	q(c, 0xb, 1, r);
	ck_assert_uint_eq((r[2] >> 8) & 0xff, 2); /* core level */
	ck_assert_uint_eq(r[1], 1);               /* one vCPU (no machine) */
	q(c, 0xb, 2, r);
	ck_assert_uint_eq((r[2] >> 8) & 0xff, 0); /* end */
	q(c, 4, 0, r);
	ck_assert_uint_eq(r[0] & 0x1f, 1); /* L1 data */
	q(c, 4, 4, r);
	ck_assert_uint_eq(r[0] & 0x1f, 0); /* no more caches */
	q(c, 1, 0, r);
	ck_assert(!(r[3] & (1u << 28))); /* no HTT with one CPU */
	free(c);
}
END_TEST

START_TEST(topology_smp)
{
	uint32_t r[4];
	struct machine *m = calloc(1, sizeof(*m));
	ck_assert_ptr_nonnull(m);
	m->ncpus = 4;
	struct cpu *c = mkcpu("intel", 2);
	c->machine = m;
	q(c, 1, 0, r);
	ck_assert(r[3] & (1u << 28));              /* HTT */
	ck_assert_uint_eq((r[1] >> 16) & 0xff, 4); /* logical IDs */
	ck_assert_uint_eq(r[1] >> 24, 2);
	q(c, 0xb, 1, r);
	ck_assert_uint_eq(r[0], 2); /* shift to the package ID */
	ck_assert_uint_eq(r[1], 4);
	ck_assert_uint_eq(r[3], 2);
	q(c, 4, 3, r);
	ck_assert_uint_eq(r[0] >> 26, 3);           /* cores per package - 1 */
	ck_assert_uint_eq((r[0] >> 14) & 0xfff, 3); /* L3 shared by all */
	free(c);
	c = mkcpu("amd", 1);
	c->machine = m;
	q(c, 0x80000008, 0, r);
	ck_assert_uint_eq(r[2] & 0xff, 3);
	free(c);
	free(m);
}
END_TEST

START_TEST(leaf_ext)
{
	uint32_t r[4];
	char brand[49] = { 0 };
	struct cpu *c = mkcpu("intel", 0);
	for (uint32_t i = 0; i < 3; i++) {
		q(c, 0x80000002 + i, 0, r);
		memcpy(brand + 16 * i, r, 16);
	}
	ck_assert_str_eq(brand, model.brand);
	q(c, 0x80000008, 0, r);
	ck_assert_uint_eq(r[0] & 0xff, 40);
	ck_assert_uint_eq((r[0] >> 8) & 0xff, 48);
	q(c, 0x80000001, 0, r);
	ck_assert(r[3] & (1u << 29)); /* LM */
	ck_assert(r[3] & (1u << 20)); /* NX */
	free(c);
}
END_TEST

START_TEST(out_of_range)
{
	uint32_t r[4], top[4];
	struct cpu *c = mkcpu("intel", 2);
	q(c, model.max_leaf, 1, top);
	q(c, 0x40000000, 1, r);
	ck_assert_mem_eq(r, top, sizeof(r));
	q(c, model.max_ext_leaf + 1, 1, r);
	ck_assert_mem_eq(r, top, sizeof(r));
	/* IA32_MISC_ENABLE.LCMV limits the basic range to 2. */
	c->msr.misc_enable |= 1ull << 22;
	q(c, 0, 0, r);
	ck_assert_uint_eq(r[0], 2);
	free(c);
	c = mkcpu("amd", 0);
	q(c, 0x40000000, 0, r);
	ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
	q(c, 0x8000001f, 0, r);
	ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
	q(c, 0x80000005, 0, r);
	ck_assert_uint_eq(r[2] >> 24, 32); /* L1d 32K */
	free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("models");
	tcase_add_test(tc, parse_models);
	tcase_add_test(tc, parse_edits);
	tcase_add_test(tc, parse_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("leaves");
	tcase_add_test(tc, leaf0_vendor);
	tcase_add_test(tc, leaf1_signature);
	tcase_add_loop_test(tc, feature_words_match, 0,
			    (int)(sizeof(model_names) / sizeof(model_names[0])));
	tcase_add_test(tc, leaf_xsave);
	tcase_add_test(tc, leaf_tsc_freq);
	tcase_add_test(tc, leaf_topology);
	tcase_add_test(tc, topology_smp);
	tcase_add_test(tc, leaf_ext);
	tcase_add_test(tc, out_of_range);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
