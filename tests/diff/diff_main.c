/*
 * tests/diff/diff_main.c — command line and driver of the differential
 * tester: generates batches of sequences, runs them natively and in nestbox,
 * compares, narrows a mismatch down to the first instruction whose prefix
 * already differs, and prints the summary.
 *
 *   diff_host [--count N] [--seed S] [--mode 64|32|both] [--family NAME]
 *             [--keep-going] [--verbose] [--selftest] [--only IDX] [--no-exclude]
 *             [--cpu SPEC]
 *
 *   --count N      compared (non-glue) instructions, default 200000
 *   --keep-going   do not stop at the first mismatch; the summary then lists
 *                  the mismatches by the form after which they first differ
 *   --verbose      first sequence with both results, progress, per-form counts
 *   --only IDX     run and report just sequence IDX of this seed/mode/family
 *   --no-exclude   ignore the exclusion table (re-check the known bugs)
 *   --selftest     damage every nestbox result: all must be reported
 *   --cpu SPEC     nestbox CPU model (default "max"); unadvertised forms skip
 * Exit status: 0 all equal, 1 mismatch, 2 usage/setup error, 77 skipped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "tests/diff/diff.h"
#include "tests/diff/diff_gen.h"

#define BATCH        256
#define SKIP         77 /* ctest SKIP_RETURN_CODE */
#define MAX_FORM_IDS 4096

struct stats {
	uint64_t insns[FAM_NFAM];
	uint64_t total;
	uint64_t seqs;
	uint64_t mismatches;
};

static void usage(void)
{
	fprintf(stderr, "usage: diff_host [--count N] [--seed S] [--mode 64|32|both] "
			"[--family NAME] [--keep-going] [--verbose]\nfamilies:");
	for (int f = 0; f < FAM_NFAM; f++)
		fprintf(stderr, " %s", diff_family_name[f]);
	fprintf(stderr, "\n");
	exit(2);
}

/* --selftest: damage one compared field of the nestbox result so that every
 * sequence must be reported (checks that the comparison can fail). */
static void perturb(const struct seq *s, struct dresult *r, uint64_t n)
{
	uint64_t fl = (F_ARITH | F_DF) & ~(uint64_t)s->flags_undef;
	switch (n % 7) {
	case 0:
		r->st.gpr[s->mode == 64 ? 14 : 7] ^= 1;
		break;
	case 1:
		r->st.rflags ^= fl & -fl;
		break;
	case 2: {
		int i = (int)(n % DATA_SIZE);
		if (i >= r->skip_lo && i < r->skip_hi)
			i = 0;
		r->st.data[i] ^= 0x80;
		break;
	}
	case 3: {
		unsigned x = (unsigned)(n % 8);
		while (s->xmm_skip >> x & 1)
			x = (x + 1) % 8;
		r->st.fx[FX_XMM + 16 * x + n % 16] ^= 1;
		break;
	}
	case 4:
		r->st.fx[FX_ST + 16 * (n % 8)] ^= 1;
		break;
	case 5:
		r->st.fx[FX_MXCSR] ^= 1;
		break;
	default:
		r->st.fx[FX_FCW] ^= 1;
		break;
	}
}

/* Find the first instruction after which the results already differ. */
static int narrow(struct nb_runner *nb, const struct seq *s, uint64_t seed, uint64_t idx,
		  bool print)
{
	static struct seq pre[MAX_INSN];
	static struct dresult nat[MAX_INSN], emu;
	int n = s->ninsn;
	for (int k = 0; k < n; k++) {
		pre[k] = *s;
		pre[k].ninsn = k + 1;
		pre[k].len = k + 1 < n ? s->off[k + 1] : s->len;
		pre[k].flags_undef = s->undef_after[k];
		pre[k].fsw_undef = s->fswu_after[k];
	}
	if (!native_run_batch(pre, n, nat))
		return -1;
	for (int k = 0; k < n; k++) {
		if (k + 1 < n && s->tail[k + 1])
			continue; /* not a boundary: the next glue completes instruction k */
		nb_run(nb, &pre[k], &emu);
		if (!diff_compare(&pre[k], &nat[k], &emu, seed, idx, false)) {
			if (print) {
				printf("  first difference after instruction %d (%s):\n", k,
				       s->counted[k] ? diff_form_name(s->form[k]) : "glue");
				diff_compare(&pre[k], &nat[k], &emu, seed, idx, true);
			}
			return s->form[k];
		}
	}
	if (print)
		printf("  (every prefix matches: the difference needs the whole sequence)\n");
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t count = 200000, seed = 1;
	int modes[2] = { 64, 32 }, nmodes = 2, fam = -1;
	bool verbose = false, keep_going = false, selftest = false;
	const char *cpu_model = NULL; /* --cpu SPEC: another model ("max,-bmi1") */
	int64_t only = -1;            /* --only IDX: just sequence IDX (with its mode), reported */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--count") && v) {
			count = strtoull(v, NULL, 0), i++;
		} else if (!strcmp(a, "--seed") && v) {
			seed = strtoull(v, NULL, 0), i++;
		} else if (!strcmp(a, "--mode") && v) {
			if (!strcmp(v, "both"))
				nmodes = 2;
			else if (!strcmp(v, "64") || !strcmp(v, "32"))
				modes[0] = atoi(v), nmodes = 1;
			else
				usage();
			i++;
		} else if (!strcmp(a, "--family") && v) {
			for (int f = 0; f < FAM_NFAM; f++)
				if (!strcmp(v, diff_family_name[f]))
					fam = f;
			if (fam < 0)
				usage();
			i++;
		} else if (!strcmp(a, "--verbose")) {
			verbose = true;
		} else if (!strcmp(a, "--only") && v) {
			only = (int64_t)strtoull(v, NULL, 0), i++;
		} else if (!strcmp(a, "--cpu") && v) {
			cpu_model = v, i++;
		} else if (!strcmp(a, "--no-exclude")) {
			form_exclusions_off();
		} else if (!strcmp(a, "--selftest")) {
			selftest = keep_going = true;
		} else if (!strcmp(a, "--keep-going")) {
			keep_going = true;
		} else {
			usage();
		}
	}
#if !defined(__x86_64__) || !defined(__linux__)
	printf("diff: skipped (needs an x86-64 Linux host)\n");
	return SKIP;
#endif
	struct nb_runner *nb = nb_new(cpu_model);
	if (!nb) {
		fprintf(stderr, "diff: cannot create the nestbox machine\n");
		return 2;
	}
	const struct cpu_model *model = nb_model(nb);
	static struct seq seqs[BATCH];
	static struct dresult nat[BATCH], emu;
	static uint64_t form_count[MAX_FORM_IDS], form_bad[MAX_FORM_IDS], vec_count[32];
	struct stats st = { 0 };
	uint64_t idx = 0;
	int batchno = 0;
	while (st.total < count) {
		int mode = modes[batchno++ % nmodes];
		if (fam >= 0 && !gen_family_ok(fam, mode, model)) {
			if (nmodes == 1 || !gen_family_ok(fam, modes[batchno % nmodes], model)) {
				printf("diff: family %s not available (model/mode), skipped\n",
				       diff_family_name[fam]);
				break;
			}
			continue;
		}
		struct gen_opts o = { .mode = mode, .fam = fam, .model = model };
		int n = 0;
		uint64_t first = idx;
		if (only >= 0) {
			o.mode = modes[(only / BATCH) % nmodes];
			gen_sequence(&seqs[0], seed, (uint64_t)only, &o);
			n = 1;
			first = (uint64_t)only;
			count = 0;
			keep_going = true;
			if (!native_run_batch(seqs, 1, nat))
				return SKIP;
			nb_run(nb, &seqs[0], &emu);
			if (verbose) {
				printf("native status %d vector %d at %#" PRIx64
				       "; nestbox status %d "
				       "vector %d at %#" PRIx64 "\n",
				       nat[0].status, nat[0].vector, nat[0].fault_rip, emu.status,
				       emu.vector, emu.fault_rip);
				diff_dump_state("native", &seqs[0], &nat[0].st);
				diff_dump_state("nestbox", &seqs[0], &emu.st);
			}
			if (!diff_compare(&seqs[0], &nat[0], &emu, seed, first, true)) {
				narrow(nb, &seqs[0], seed, first, true);
				st.mismatches++;
			} else {
				diff_print_seq(&seqs[0]);
			}
			break;
		}
		for (; n < BATCH; n++)
			gen_sequence(&seqs[n], seed, idx++, &o);
		if (!native_run_batch(seqs, n, nat)) {
			printf("diff: skipped (cannot run code natively here)\n");
			nb_free(nb);
			return SKIP;
		}
		for (int i = 0; i < n; i++) {
			const struct seq *s = &seqs[i];
			nb_run(nb, s, &emu);
			if (verbose && st.seqs == 0) {
				printf("diff: first sequence (native vs nestbox):\n");
				diff_print_seq(s);
				diff_dump_state("native", s, &nat[i].st);
				diff_dump_state("nestbox", s, &emu.st);
			}
			if (selftest)
				perturb(s, &emu, st.seqs);
			if (nat[i].status == RES_FAULT && nat[i].vector >= 0 && nat[i].vector < 32)
				vec_count[nat[i].vector]++;
			st.seqs++;
			int c = 0;
			for (int k = 0; k < s->ninsn; k++) {
				c += s->counted[k];
				if (s->counted[k] && s->form[k] < MAX_FORM_IDS)
					form_count[s->form[k]]++;
			}
			st.insns[s->fam] += (uint64_t)c;
			st.total += (uint64_t)c;
			if (!diff_compare(s, &nat[i], &emu, seed, first + (uint64_t)i,
					  st.mismatches < 20 && !selftest)) {
				if (!selftest) {
					int f = narrow(nb, s, seed, first + (uint64_t)i,
						       st.mismatches < 20);
					if (f >= 0 && f < MAX_FORM_IDS)
						form_bad[f]++;
					if (st.mismatches >= 20 && st.mismatches < 1000)
						printf("MISMATCH seed=%" PRIu64 " seq=%" PRIu64
						       " mode=%d first differs after %s\n",
						       seed, first + (uint64_t)i, s->mode,
						       f >= 0 ? diff_form_name(f) : "?");
				}
				st.mismatches++;
				if (!keep_going)
					goto done;
			}
		}
		if (verbose && batchno % 64 == 0)
			printf("diff: %" PRIu64 " instructions, %" PRIu64 " sequences, %" PRIu64
			       " mismatches\n",
			       st.total, st.seqs, st.mismatches);
	}
done:
	if (selftest) {
		bool ok = st.mismatches == st.seqs;
		printf("diff: selftest %s: %" PRIu64 " of %" PRIu64 " damaged results caught\n",
		       ok ? "passed" : "FAILED", st.mismatches, st.seqs);
		nb_free(nb);
		return ok ? 0 : 1;
	}
	if (verbose) {
		int nf = 0;
		for (int f = 0; f < MAX_FORM_IDS; f++) {
			if (!form_count[f])
				continue;
			printf("  %-28s %8" PRIu64 "%s", diff_form_name(f), form_count[f],
			       ++nf % 3 ? "" : "\n");
		}
		printf("\ndiff: %d instruction forms exercised\ndiff: exceptions compared:", nf);
		for (int v = 0; v < 32; v++)
			if (vec_count[v])
				printf(" #%d x%" PRIu64, v, vec_count[v]);
		printf("\n");
	}
	for (int f = 0; f < MAX_FORM_IDS; f++)
		if (form_bad[f])
			printf("diff: %" PRIu64 " mismatches first differ after \"%s\"\n",
			       form_bad[f], diff_form_name(f));
	printf("diff: %" PRIu64 " instructions compared, %" PRIu64 " mismatches (", st.total,
	       st.mismatches);
	bool first = true;
	for (int f = 0; f < FAM_NFAM; f++) {
		if (!st.insns[f])
			continue;
		printf("%s%s %" PRIu64, first ? "" : ", ", diff_family_name[f], st.insns[f]);
		first = false;
	}
	printf(")\n");
	nb_free(nb);
	return st.mismatches ? 1 : 0;
}
