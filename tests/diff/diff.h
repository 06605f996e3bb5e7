/*
 * tests/diff/diff.h — shared types of the differential tester (nestbox versus
 * the host CPU).
 *
 * A "sequence" is a short run of generated user-mode instructions plus the
 * initial architectural state (GPRs, RFLAGS, FXSAVE image, data area). The
 * generator (diff_gen*.c) builds it, the native runner (diff_native.c) and the
 * nestbox runner (diff_nestbox.c) execute it from the same state, and
 * diff_compare.c compares the two results under the masks the generator
 * recorded (flags and x87 condition codes left undefined by the SDM).
 *
 * Address layout, identical in both runs (all below 2 GiB so that absolute
 * disp32 addressing, MAP_32BIT and compatibility mode all work):
 *   CODE_VA   the generated sequence, ended by INT3 (native) / HLT (nestbox)
 *   DATA_VA   DATA_SIZE bytes of data; the base register points at DATA_BASE
 * Both straddle a 4 KiB page boundary so that page-crossing fetches and data
 * accesses are exercised.
 *   STACK_TOP initial RSP, inside the data area so pushes are compared
 */
#ifndef NESTBOX_TESTS_DIFF_DIFF_H
#define NESTBOX_TESTS_DIFF_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#define AREA_VA   0x30000000u /* 2 MiB region holding everything below */
#define CODE_VA   0x30000fa0u /* code crosses a page boundary after 96 bytes */
#define DATA_VA   0x30010f80u /* data crosses one at offset 128 (the base) */
#define DATA_SIZE 512
#define DATA_BASE (DATA_VA + 128u) /* base register value: disp8 reaches [0,256) */
#define STR_AREA  256              /* string instructions work in [256,512) */
#define SP_INIT   384              /* stack: [STR_AREA, DATA_SIZE) of the data */
#define STACK_TOP (DATA_VA + SP_INIT)
#define RO_VA     0x30020000u /* a read-only page (zeros) */

#define MAX_CODE 1024
#define MAX_INSN 96

enum diff_family {
	FAM_INT,
	FAM_BMI,
	FAM_STR,
	FAM_BCD,
	FAM_FLOW,
	FAM_FAULT,
	FAM_SMC,
	FAM_SEG,
	FAM_X87,
	FAM_MMX,
	FAM_SSE,
	FAM_SSE2,
	FAM_SSE3,
	FAM_SSSE3,
	FAM_SSE41,
	FAM_SSE42,
	FAM_AES,
	FAM_NFAM
};
extern const char *const diff_family_name[FAM_NFAM];

/* Architectural state compared between the runs. fx is an FXSAVE image
 * (64-bit layout, ST registers in stack order, abridged tag byte). */
struct dstate {
	uint64_t gpr[16];
	uint64_t rflags;
	uint8_t fx[512] __attribute__((aligned(16)));
	uint8_t data[DATA_SIZE];
};

/* FXSAVE image offsets. */
#define FX_FCW   0
#define FX_FSW   2
#define FX_FTW   4
#define FX_MXCSR 24
#define FX_ST    32
#define FX_XMM   160

struct seq {
	int mode; /* 64 or 32 (compatibility mode) */
	int len;  /* code bytes, without the terminator */
	uint8_t code[MAX_CODE];
	int ninsn;
	uint16_t off[MAX_INSN];         /* start of each instruction */
	uint16_t form[MAX_INSN];        /* form id (diff_form_name) of each instruction */
	uint8_t counted[MAX_INSN];      /* compared instruction (not set-up glue) */
	uint8_t tail[MAX_INSN];         /* glue completing the previous instruction */
	uint16_t undef_after[MAX_INSN]; /* flags_undef after each instruction */
	uint16_t fswu_after[MAX_INSN];  /* fsw_undef after each instruction */
	uint32_t flags_undef;           /* RFLAGS bits undefined at the end */
	uint16_t fsw_undef;             /* FSW bits undefined at the end */
	uint32_t xmm_skip;              /* XMM registers not compared (approximations) */
	uint32_t gpr_skip;              /* GPRs not compared */
	uint8_t dmask[DATA_SIZE / 8];   /* data bytes not compared (FIP/FDP images) */
	int fam;                        /* family of the counted instructions */
	struct dstate init;
};

/* Result of one run. */
struct dresult {
	int status; /* 0 ok; else RES_* */
	int vector; /* exception vector (native: the signal's trap
		     * number); the signal for RES_DIED */
	uint32_t errcode;
	uint64_t fault_rip;
	int skip_lo, skip_hi; /* data bytes not compared (exception frame) */
	struct dstate st;
};
enum {
	RES_OK,
	RES_FAULT,
	RES_TIMEOUT,
	RES_DIED
};

/* ---- generator (diff_gen.c) ---- */
struct cpu_model;
struct gen_opts {
	int mode; /* 64 or 32 */
	int fam;  /* family, or -1 for a random one */
	const struct cpu_model *model;
};
/* Build sequence number idx of the run seeded by seed. */
void gen_sequence(struct seq *s, uint64_t seed, uint64_t idx, const struct gen_opts *o);
/* Is the family usable at all on this model and mode? */
bool gen_family_ok(int fam, int mode, const struct cpu_model *model);
const char *diff_form_name(int form);

/* ---- runners ---- */
struct nb_runner;
struct nb_runner *nb_new(const char *cpu_model); /* NULL: "max" */
const struct cpu_model *nb_model(struct nb_runner *r);
void nb_run(struct nb_runner *r, const struct seq *s, struct dresult *out);
void nb_free(struct nb_runner *r);

/* Run n sequences natively in a sandboxed child; out[i] for each. Returns
 * false if the host cannot run them at all. */
bool native_run_batch(const struct seq *s, int n, struct dresult *out);

/* ---- comparison and report (diff_compare.c) ---- */
/* Returns true if equal under the sequence's masks; else prints a report. */
bool diff_compare(const struct seq *s, const struct dresult *nat, const struct dresult *nb,
		  uint64_t seed, uint64_t idx, bool print);
void diff_print_seq(const struct seq *s);
void diff_dump_state(const char *title, const struct seq *s, const struct dstate *st);

#endif
