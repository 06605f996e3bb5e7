/*
 * tests/diff/diff_compare.c — compares a native and a nestbox result under
 * the sequence's masks and prints a mismatch report: seed and index, the
 * Capstone listing of the sequence (with each instruction's form name), the
 * initial state and every field that differs, with both values.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "tests/diff/diff.h"

static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

void diff_print_seq(const struct seq *s)
{
	csh h;
	if (cs_open(CS_ARCH_X86, s->mode == 64 ? CS_MODE_64 : CS_MODE_32, &h) != CS_ERR_OK) {
		printf("  (capstone unavailable)\n");
		return;
	}
	for (int i = 0; i < s->ninsn; i++) {
		int start = s->off[i];
		int end = i + 1 < s->ninsn ? s->off[i + 1] : s->len;
		cs_insn *insn;
		size_t n = cs_disasm(h, s->code + start, (size_t)(end - start),
				     CODE_VA + (unsigned)start, 1, &insn);
		char bytes[64] = "";
		for (int b = start; b < end && b < start + 15; b++)
			snprintf(bytes + strlen(bytes), sizeof(bytes) - strlen(bytes), "%02x ",
				 s->code[b]);
		printf("  %08x  %-36s %-8s %s%s%s\n", CODE_VA + (unsigned)start, bytes,
		       n ? insn->mnemonic : "(bad)", n ? insn->op_str : "",
		       s->counted[i] ? "    ; " : "",
		       s->counted[i] ? diff_form_name(s->form[i]) : "");
		if (n)
			cs_free(insn, n);
	}
	cs_close(&h);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void print_state(const char *title, const struct seq *s, const struct dstate *st)
{
	printf("  %s:\n   ", title);
	int n = s->mode == 64 ? 16 : 8;
	for (int i = 0; i < n; i++)
		printf(" %s=%016" PRIx64 "%s", gpr_name[i], st->gpr[i], i % 4 == 3 ? "\n   " : "");
	printf(" rflags=%08" PRIx64 " fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x\n", st->rflags,
	       rd16(st->fx + FX_FCW), rd16(st->fx + FX_FSW), st->fx[FX_FTW],
	       rd32(st->fx + FX_MXCSR));
}

void diff_dump_state(const char *title, const struct seq *s, const struct dstate *st)
{
	print_state(title, s, st);
}

static void print_fx_reg(const char *what, int i, const uint8_t *p, int len)
{
	printf("    %s%d:", what, i);
	for (int b = len - 1; b >= 0; b--)
		printf("%02x%s", p[b], b == 8 && len == 10 ? ":" : "");
}

bool diff_compare(const struct seq *s, const struct dresult *nat, const struct dresult *nb,
		  uint64_t seed, uint64_t idx, bool print)
{
	char msg[4096];
	size_t ml = 0;
#define ADD(...) \
	(ml += (size_t)snprintf(msg + ml, ml < sizeof(msg) ? sizeof(msg) - ml : 0, __VA_ARGS__))
	bool both_fault = nat->status == RES_FAULT && nb->status == RES_FAULT;
	uint32_t errmask = nat->vector == 14 ? ~4u : ~0u; /* #PF: U/S differs (CPL 3 vs 0) */
	if (both_fault && (nat->vector != nb->vector || nat->fault_rip != nb->fault_rip ||
			   ((nat->errcode ^ nb->errcode) & errmask))) {
		ADD("    native: exception %d (error %#x) at %#" PRIx64 "\n", nat->vector,
		    nat->errcode, nat->fault_rip);
		ADD("    nestbox: exception %d (error %#x) at %#" PRIx64 "\n", nb->vector,
		    nb->errcode, nb->fault_rip);
	} else if ((nat->status != RES_OK || nb->status != RES_OK) && !both_fault) {
		ADD("    native: status %d (signal/vector %d at %#" PRIx64 ")\n", nat->status,
		    nat->vector, nat->fault_rip);
		ADD("    nestbox: status %d (vector %d at %#" PRIx64 ")\n", nb->status, nb->vector,
		    nb->fault_rip);
	} else {
		uint64_t gmask = s->mode == 64 ? ~0ull : 0xffffffffull;
		int n = s->mode == 64 ? 16 : 8;
		for (int i = 0; i < n; i++) {
			if (s->gpr_skip >> i & 1)
				continue;
			if ((nat->st.gpr[i] ^ nb->st.gpr[i]) & gmask)
				ADD("    %s: native %016" PRIx64 " nestbox %016" PRIx64
				    " (init %016" PRIx64 ")\n",
				    gpr_name[i], nat->st.gpr[i], nb->st.gpr[i], s->init.gpr[i]);
		}
		/* after an exception the masks are those of the instruction boundary
		 * where it was taken */
		uint32_t undef = s->flags_undef;
		uint16_t fswu = s->fsw_undef;
		if (both_fault) {
			for (int k = 0; k < s->ninsn; k++) {
				if (CODE_VA + (uint64_t)s->off[k] == nat->fault_rip) {
					undef = k ? s->undef_after[k - 1] : 0;
					fswu = k ? s->fswu_after[k - 1] : 0;
				}
			}
		}
		uint64_t fmask = (F_ARITH | F_DF) & ~(uint64_t)undef;
		if ((nat->st.rflags ^ nb->st.rflags) & fmask)
			ADD("    rflags: native %04" PRIx64 " nestbox %04" PRIx64
			    " (compared bits %04" PRIx64 ", init %04" PRIx64 ")\n",
			    nat->st.rflags & 0xfff, nb->st.rflags & 0xfff, fmask, s->init.rflags);
		for (int i = 0; i < DATA_SIZE; i++)
			if (nat->st.data[i] != nb->st.data[i] &&
			    !(i >= nb->skip_lo && i < nb->skip_hi) &&
			    !(s->dmask[i / 8] >> (i % 8) & 1)) {
				ADD("    data[%d] (addr %#x): native %02x nestbox %02x (init "
				    "%02x)\n",
				    i, DATA_VA + (unsigned)i, nat->st.data[i], nb->st.data[i],
				    s->init.data[i]);
			}
		const uint8_t *a = nat->st.fx, *b = nb->st.fx;
		if (rd16(a + FX_FCW) != rd16(b + FX_FCW))
			ADD("    fcw: native %04x nestbox %04x\n", rd16(a + FX_FCW),
			    rd16(b + FX_FCW));
		uint16_t swm = (uint16_t)~fswu;
		if ((rd16(a + FX_FSW) ^ rd16(b + FX_FSW)) & swm)
			ADD("    fsw: native %04x nestbox %04x (compared bits %04x, init %04x)\n",
			    rd16(a + FX_FSW), rd16(b + FX_FSW), swm, rd16(s->init.fx + FX_FSW));
		if (a[FX_FTW] != b[FX_FTW])
			ADD("    ftw: native %02x nestbox %02x\n", a[FX_FTW], b[FX_FTW]);
		if (rd32(a + FX_MXCSR) != rd32(b + FX_MXCSR))
			ADD("    mxcsr: native %08x nestbox %08x (init %08x)\n", rd32(a + FX_MXCSR),
			    rd32(b + FX_MXCSR), rd32(s->init.fx + FX_MXCSR));
		for (int i = 0; i < 8; i++) {
			const uint8_t *pa = a + FX_ST + 16 * i, *pb = b + FX_ST + 16 * i;
			if (memcmp(pa, pb, 10)) {
				ADD("    st%d: native %04x:%016" PRIx64 " nestbox %04x:%016" PRIx64
				    "\n",
				    i, rd16(pa + 8),
				    (uint64_t)rd32(pa) | (uint64_t)rd32(pa + 4) << 32, rd16(pb + 8),
				    (uint64_t)rd32(pb) | (uint64_t)rd32(pb + 4) << 32);
			}
		}
		int nx = s->mode == 64 ? 16 : 8;
		for (int i = 0; i < nx; i++) {
			if (s->xmm_skip >> i & 1)
				continue;
			const uint8_t *pa = a + FX_XMM + 16 * i, *pb = b + FX_XMM + 16 * i;
			if (memcmp(pa, pb, 16)) {
				uint64_t q[6];
				memcpy(q, pa, 16);
				memcpy(q + 2, pb, 16);
				memcpy(q + 4, s->init.fx + FX_XMM + 16 * i, 16);
				ADD("    xmm%d: native %016" PRIx64 "%016" PRIx64
				    " nestbox %016" PRIx64 "%016" PRIx64 " (init %016" PRIx64
				    "%016" PRIx64 ")\n",
				    i, q[1], q[0], q[3], q[2], q[5], q[4]);
			}
		}
	}
#undef ADD
	if (!ml)
		return true;
	if (print) {
		printf("MISMATCH seed=%" PRIu64 " seq=%" PRIu64 " mode=%d family=%s\n", seed, idx,
		       s->mode, diff_family_name[s->fam]);
		diff_print_seq(s);
		print_state("initial state", s, &s->init);
		print_state("native result", s, &nat->st);
		print_state("nestbox result", s, &nb->st);
		printf("  differences:\n%s", msg);
		if (ml >= sizeof(msg))
			printf("    ...\n");
		if (s->fam == FAM_X87 || s->fam == FAM_MMX) {
			for (int i = 0; i < 8; i++) {
				print_fx_reg("init st", i, s->init.fx + FX_ST + 16 * i, 10);
				printf("%s", i % 2 ? "\n" : "");
			}
		}
	}
	return false;
}
