/*
 * mmu/walk.c — the page-table walker (implements mmu/walk.h).
 *
 * A pure function of the paging registers and memory: no vCPU. It is called
 * on every soft-TLB miss, by VMX/SVM with a second stage (EPT/NPT) that
 * translates every guest-physical address the walk touches, by the debugger
 * and by the teaching tool, which prints the per-level trace in r->steps.
 *
 * How a 4-level walk splits a linear address (SDM Vol. 3 §4.5, Figure 4-8):
 *
 *   63     48 47    39 38    30 29    21 20    12 11         0
 *  +---------+--------+--------+--------+--------+------------+
 *  | sign    | PML4   | PDPT   | PD     | PT     | offset     |
 *  +---------+--------+--------+--------+--------+------------+
 *
 * Each index selects an 8-byte entry in a 4 KiB table whose address comes
 * from the previous entry (CR3 for the first). A PS=1 entry at the PDPT (1G)
 * or PD (2M) level ends the walk early. 5-level paging (CR4.LA57) adds a PML5
 * index in bits 56:48; PAE paging starts at a 4-entry PDPT indexed by bits
 * 31:30 whose entries are the PDPTE registers; 32-bit paging has two levels
 * of 4-byte entries indexed by 10 bits each.
 *
 * Order of events (what Intel processors do, SDM §4.7/§4.8): the walk reads
 * entries top-down and stops at the first not-present entry or the first
 * entry with a reserved bit set (#PF, P=0 or RSVD=1). Then the access rights
 * accumulated over all levels are checked (§4.6). Only when the translation
 * succeeds are the accessed flags set in every entry used, and the dirty flag
 * in the final one for a write (§4.8: "used as part of linear-address
 * translation"); a faulting access leaves the tables untouched. Last, the
 * final guest-physical address goes through the second stage.
 */
#include "mmu/walk.h"

#include <string.h>

#include "mmu/mmu.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Architectural bits, local so the walker does not depend on the CPU. */
#define CR0_WP   (1ull << 16)
#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_PGE  (1ull << 7)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE  (1ull << 22)
#define CR4_PKS  (1ull << 24)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Paging-structure entry bits (SDM Tables 4-4..4-20). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A  (1ull << 5)
#define PTE_D  (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G  (1ull << 8)
#define PTE_XD (1ull << 63)

/* Bits hi:lo set. */
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* PAE PDPTE: bits 2:1 and 8:5 are reserved (SDM Table 4-8), as are 63:M. */
#define PDPTE_RSVD (BITS(2, 1) | BITS(8, 5))

/* Is this a user-mode access (SDM §4.6: CPL 3, and not an implicit
 * supervisor access such as a GDT/IDT/TSS reference)? */
static inline bool user_access(unsigned acc)
{
	return (acc & (WALK_USER | WALK_SUPV)) == WALK_USER;
}

/* SDM §4.6.1: may an access of kind acc use a page whose combined rights are
 * user_page / writable / nx? */
static ALWAYS_INLINE bool rights_allow(const struct paging_regs *pr, bool user_page, bool writable,
				       bool nx, unsigned acc)
{
	if (acc & WALK_FETCH) {
		if (nx)
			return false;
		if (user_access(acc))
			return user_page;
		/* SMEP: supervisor fetches from user-mode pages fault. */
		return !(user_page && (pr->cr4 & CR4_SMEP));
	}
	if (user_access(acc))
		return user_page && (writable || !(acc & WALK_WRITE));
	/* Supervisor data access. SMAP: no access to user-mode pages unless
	 * RFLAGS.AC=1 and the access is explicit. */
	if (user_page && (pr->cr4 & CR4_SMAP) && (!(acc & WALK_AC) || (acc & WALK_SUPV)))
		return false;
	/* CR0.WP=1: supervisor writes obey R/W too. */
	return writable || !(acc & WALK_WRITE) || !(pr->cr0 & CR0_WP);
}

/*
 * SDM §4.6.2: protection keys, with IA-32e (4- or 5-level) paging only. A
 * user-mode page's key selects two bits of PKRU (CR4.PKE), a supervisor-mode
 * page's two bits of IA32_PKRS (CR4.PKS): ADk = 1 refuses every data access
 * to pages with key k, WDk = 1 refuses writes, except supervisor-mode writes
 * while CR0.WP = 0. Instruction fetches are never checked. The result is
 * independent of the other rights: a refused access reports PK in the error
 * code even when the U/S or R/W rules refuse it too.
 */
static inline bool pk_denied(const struct paging_regs *pr, bool user_page, unsigned pkey,
			     unsigned acc)
{
	if ((acc & WALK_FETCH) || !(pr->efer & EFER_LMA) || !(pr->cr4 & (CR4_PKE | CR4_PKS)))
		return false;
	uint32_t rights;
	if (user_page) {
		if (!(pr->cr4 & CR4_PKE))
			return false;
		rights = pr->pkru >> (2 * pkey);
	} else {
		if (!(pr->cr4 & CR4_PKS))
			return false;
		rights = pr->pkrs >> (2 * pkey);
	}
	if (rights & 1)
		return true;
	return (rights & 2) && (acc & WALK_WRITE) && (user_access(acc) || (pr->cr0 & CR0_WP));
}

bool walk_allows(const struct paging_regs *pr, const struct walk_result *r, unsigned acc)
{
	if (!(pr->cr0 & CR0_PG) || (acc & WALK_NO_FAULT_CHECK))
		return true;
	return rights_allow(pr, r->user, r->writable, r->nx, acc) &&
	       !pk_denied(pr, r->user, r->pkey, acc);
}

/* The W/U/I bits of the error code describe the access (SDM §4.7). I is
 * reported only when SMEP is on or when NX can exist (PAE/4-level with
 * EFER.NXE). */
static uint32_t pfec_access(const struct paging_regs *pr, unsigned acc)
{
	uint32_t e = 0;
	if (acc & WALK_FETCH) {
		if ((pr->cr4 & CR4_SMEP) || ((pr->cr4 & CR4_PAE) && (pr->efer & EFER_NXE)))
			e |= PFEC_I;
	} else if (acc & WALK_WRITE) {
		e |= PFEC_W;
	}
	if (user_access(acc))
		e |= PFEC_U;
	return e;
}

/* A range of host-physical memory that is RAM of one mapping (see
 * mmu_ram_span): host address = addend + hpa for hpa - lo < len, where len
 * leaves room for an 8-byte entry (len = 0: none). */
struct span {
	uint64_t lo, len;
	uintptr_t addend;
};

/* The state of one walk. Only this file's always-inline helpers see it and
 * its address never leaves mmu_walk, so the compiler keeps it in registers
 * (the per-step arrays, indexed at run time, live on the stack). */
struct walker {
	struct mmu *m;
	const struct stage2 *s2;
	uint64_t lin;
	struct walk_result *r;
	int n;             /* steps taken */
	uint64_t and_bits; /* AND of the entries used: U/S, R/W at every level */
	uint64_t or_bits;  /* OR of the entries used: XD at any level */
	uint64_t no_a;     /* bit n set: entry n has A clear */
	/* The RAM span the last table was in. Page tables usually share one,
	 * so after the first level an entry costs a compare and a load, and
	 * the load does not wait for a lookup of where the entry is. */
	struct span span;
	uint64_t *hpa;  /* [5]: where each entry is in host-physical memory */
	uint8_t **host; /* [5]: and in our memory (NULL: not RAM, use phys_*) */
	bool amd;       /* paging_regs.amd: AMD's reserved bits */
};

/* The RAM span around hpa, or an empty one if hpa is not RAM. Cold: once
 * per walk (the first table). */
static __attribute__((noinline)) struct span span_of(struct mmu *m, uint64_t hpa)
{
	uint64_t lo, hi;
	uint8_t *p = mmu_ram_span(m, hpa, &lo, &hi);
	if (!p || hi - lo < 8)
		return (struct span){ 0, 0, 0 };
	return (struct span){ lo, hi - lo - 7, (uintptr_t)p - (uintptr_t)hpa };
}

/* Host pointer of the entry at hpa, or NULL when it is not in RAM (or an
 * 8-byte entry there would cross the end of its span: phys_read splits
 * it). */
static ALWAYS_INLINE uint8_t *entry_ptr(struct walker *w, uint64_t hpa)
{
	if (__builtin_expect(hpa - w->span.lo >= w->span.len, 0)) {
		w->span = span_of(w->m, hpa);
		if (hpa - w->span.lo >= w->span.len)
			return NULL;
	}
	return (uint8_t *)(w->span.addend + (uintptr_t)hpa);
}

/* Little-endian host (DESIGN.md §3). */
static ALWAYS_INLINE uint64_t load_entry(const uint8_t *p, unsigned esize)
{
	if (esize == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Read the entry at gpa (a table access: through the second stage) and
 * record it in the trace. esize: 4 (32-bit paging) or 8, a constant. */
static ALWAYS_INLINE bool read_entry(struct walker *w, int level, uint64_t gpa, unsigned esize,
				     uint64_t *val)
{
	uint64_t hpa = gpa, v;
	if (w->s2 && w->s2->xlate(w->s2->opaque, gpa, w->lin, true, 0, &hpa))
		return false;
	uint8_t *p = entry_ptr(w, hpa);
	if (__builtin_expect(p != NULL, 1)) {
		v = load_entry(p, esize);
	} else {
		/* ROM, MMIO or nothing: the general path. A device callback may
		 * remap memory, so forget the span and the host pointers of the
		 * entries read so far (their A/D updates then take phys_write). */
		v = phys_read(w->m, hpa, esize);
		w->span.len = 0;
		for (int i = 0; i < w->n; i++)
			w->host[i] = NULL;
	}
	w->r->steps[w->n] = (struct walk_step){ level, gpa, v };
	w->hpa[w->n] = hpa;
	w->host[w->n] = p;
	if (!(v & PTE_A))
		w->no_a |= 1u << w->n;
	w->n++;
	*val = v;
	return true;
}

/* Rights of one more entry (SDM §4.6: user-mode and writable only if every
 * level says so; execute-disabled if any level says so). */
static ALWAYS_INLINE void take_rights(struct walker *w, uint64_t e)
{
	w->and_bits &= e;
	w->or_bits |= e;
}

/* Leaf found: where lin lands. */
static ALWAYS_INLINE enum walk_status leaf(struct walker *w, uint64_t e, uint64_t page_size,
					   uint64_t frame)
{
	w->r->page_size = page_size;
	w->r->gpa = frame | (w->lin & (page_size - 1));
	w->r->final_entry = e;
	return WALK_OK;
}

/* Outcomes other than a translation; the error code is completed later. */
#define WALK_NP   0x100 /* not present: PFEC P=0 */
#define WALK_RSVD 0x200 /* reserved bit: PFEC P=1 RSVD=1 */
#define WALK_S2   0x300 /* the second stage refused a table access */
#define WALK_PERM 0x400 /* access rights: PFEC P=1 */

/* 4-level / 5-level paging and the PD/PT part of PAE paging: levels from
 * `level` down to a leaf. rsvd_base = reserved address bits + XD when !NXE;
 * pae = PAE paging (no PS at level 3: PAE has no 1G pages). Callers pass a
 * constant level, so the loop unrolls into straight code where each level's
 * shift and reserved bits are constants. */
static ALWAYS_INLINE unsigned walk64(struct walker *w, int level, uint64_t table,
				     uint64_t rsvd_base, uint64_t pa_mask, bool pae)
{
#pragma GCC unroll 5
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;
		if (!read_entry(w, level, table + ((w->lin >> shift) & 511) * 8, 8, &e))
			return WALK_S2;
		if (!(e & PTE_P))
			return WALK_NP;
		uint64_t rsvd = rsvd_base;
		if (level >= 4) {
			rsvd |= PTE_PS; /* PML4E/PML5E: bit 7 reserved */
			if (w->amd)
				rsvd |= 1ull << 8;
		} else if (level == 1 || (e & PTE_PS)) {
			/* A leaf. Large pages: the bits between PAT (12) and
			 * the frame address are reserved. 1G pages are taken
			 * as supported (CPUID 80000001H:EDX.Page1GB). */
			if (level == 2)
				rsvd |= BITS(20, 13);
			else if (level == 3 && !pae)
				rsvd |= BITS(29, 13);
			if (e & rsvd)
				return WALK_RSVD;
			take_rights(w, e);
			uint64_t size = 1ull << shift;
			return leaf(w, e, size, e & pa_mask & ~(size - 1));
		}
		if (e & rsvd)
			return WALK_RSVD;
		take_rights(w, e);
		table = e & pa_mask;
	}
	__builtin_unreachable(); /* level 1 always ends the walk */
}

/* 32-bit paging (SDM §4.3): 4-byte entries, 4M pages with CR4.PSE, PSE-36
 * high address bits in PDE bits 20:13. No reserved bits in 4K entries. */
static ALWAYS_INLINE unsigned walk32(struct walker *w, const struct paging_regs *pr,
				     unsigned m_bits)
{
	uint32_t lin = (uint32_t)w->lin;
	uint64_t pde, pte;
	if (!read_entry(w, 2, (pr->cr3 & 0xfffff000u) + (lin >> 22) * 4, 4, &pde))
		return WALK_S2;
	if (!(pde & PTE_P))
		return WALK_NP;
	take_rights(w, pde);
	if ((pde & PTE_PS) && (pr->cr4 & CR4_PSE)) {
		/* 4M page (Table 4-4): bit 21 reserved; bits 20:13 are physical
		 * bits 39:32, those at or above min(MAXPHYADDR, 40) reserved. */
		unsigned m40 = m_bits < 40 ? m_bits : 40;
		uint64_t rsvd = (1u << 21) | (m40 < 40 ? BITS(20, m40 - 19) : 0);
		if (pde & rsvd)
			return WALK_RSVD;
		return leaf(w, pde, 1ull << 22, (pde & 0xffc00000u) | ((pde >> 13) & 0xff) << 32);
	}
	if (!read_entry(w, 1, (pde & 0xfffff000u) + ((lin >> 12) & 1023) * 4, 4, &pte))
		return WALK_S2;
	if (!(pte & PTE_P))
		return WALK_NP;
	take_rights(w, pte);
	return leaf(w, pte, 4096, pte & 0xfffff000u);
}

/* PAE paging (SDM §4.4): the PDPTE registers, then walk64 from the PD. */
static ALWAYS_INLINE unsigned walk_pae(struct walker *w, const struct paging_regs *pr, unsigned mb,
				       uint64_t pa_mask, uint64_t addr_rsvd)
{
	unsigned i = (w->lin >> 30) & 3;
	uint64_t gpa = (pr->cr3 & 0xffffffe0u) + i * 8;
	uint64_t pdpte;
	if (pr->pdpte_valid) {
		/* From the registers: no memory access. Traced for the reader. */
		pdpte = pr->pdpte[i];
		w->r->steps[0] = (struct walk_step){ 3, gpa, pdpte };
		w->hpa[0] = gpa;
		w->host[0] = NULL;
		w->n = 1;
	} else if (!read_entry(w, 3, gpa, 8, &pdpte)) {
		return WALK_S2;
	}
	w->no_a = 0; /* PDPTEs have no accessed flag */
	if (!(pdpte & PTE_P))
		return WALK_NP;
	if (pdpte & (PDPTE_RSVD | BITS(63, mb)))
		return WALK_RSVD;
	/* PAE entries: bits 62:M reserved, XD reserved without NXE. The
	 * PDPTE carries no rights. */
	uint64_t rsvd = addr_rsvd | BITS(62, 52) | ((pr->efer & EFER_NXE) ? 0 : PTE_XD);
	return walk64(w, 2, pdpte & pa_mask, rsvd, pa_mask, true);
}

/* Set A in every entry used and D in the final one for a write (SDM §4.8),
 * through the second stage as writes. Cold: entries usually have them. */
static __attribute__((noinline)) bool update_ad(struct mmu *m, const struct stage2 *s2,
						uint64_t lin, struct walk_result *r,
						const uint64_t *hpa, uint8_t *const *host,
						uint64_t no_a, unsigned esize, bool set_d)
{
	for (int i = 0; i < r->nsteps; i++) {
		bool last = i == r->nsteps - 1;
		uint64_t set = 0;
		if (no_a & (1u << i))
			set |= PTE_A;
		if (last && set_d)
			set |= PTE_D;
		if (!set)
			continue;
		uint64_t h = hpa[i];
		if (s2 && s2->xlate(s2->opaque, r->steps[i].entry_gpa, lin, true, WALK_WRITE, &h))
			return false;
		/* Only ever set bits: OR into the current value rather than
		 * writing back what the walk read (the locked OR of hardware;
		 * vCPUs take turns on one host thread, so a plain OR is as
		 * atomic). Through the host pointer when the write lands where
		 * the read did (always, unless a second stage maps reads and
		 * writes of the entry differently). */
		uint64_t v;
		uint8_t *p = h == hpa[i] ? host[i] : NULL;
		if (p) {
			mmu_note_write(m, h, esize); /* tables may share a page with code */
			v = load_entry(p, esize) | set;
			memcpy(p, &v, esize); /* little-endian: the low esize bytes */
		} else {
			v = phys_read(m, h, esize) | set;
			phys_write(m, h, esize, v);
		}
		r->steps[i].entry = v;
		if (last)
			r->final_entry = v;
	}
	return true;
}

static enum walk_status walk_fail(const struct paging_regs *pr, unsigned acc, struct walk_result *r,
				  unsigned why)
{
	if (why == WALK_S2) {
		r->status = WALK_STAGE2;
	} else {
		r->status = WALK_PF;
		r->pfec = pfec_access(pr, acc);
		if (why == WALK_RSVD)
			r->pfec |= PFEC_P | PFEC_RSVD;
		else if (why == WALK_PERM)
			r->pfec |= PFEC_P;
	}
	return r->status;
}

enum walk_status mmu_walk(struct mmu *m, const struct paging_regs *pr, uint64_t lin, unsigned acc,
			  const struct stage2 *s2, struct walk_result *r)
{
	/* Field by field: a designated initializer would also clear the
	 * per-step arrays, which only steps taken fill and read (the compiler
	 * makes that a `rep stos`, a large part of a short walk). */
	uint64_t hpa[5];
	uint8_t *host[5];
	struct walker w;
	w.m = m;
	w.s2 = s2;
	w.lin = lin;
	w.r = r;
	w.n = 0;
	w.and_bits = ~0ull;
	w.or_bits = w.no_a = 0;
	w.span = (struct span){ 0, 0, 0 };
	w.hpa = hpa;
	w.host = host;
	w.amd = pr->amd;
	unsigned esize = 8;
	r->status = WALK_OK;
	r->pfec = 0;
	r->gpa = r->hpa = 0;
	r->page_size = 4096;
	r->user = r->writable = true;
	r->nx = r->global = r->dirty = false;
	r->final_entry = 0;
	r->pkey = 0;

	if (!(pr->cr0 & CR0_PG)) {
		/* No paging: linear = physical, 32 bits (long mode needs paging). */
		r->nsteps = 0;
		r->gpa = (uint32_t)lin;
		goto stage2;
	}
	unsigned mb = mmu_maxphyaddr(m), why;
	uint64_t pa_mask = BITS(mb - 1, 12);
	uint64_t addr_rsvd = mb < 52 ? BITS(51, mb) : 0;
	bool nx_exists = true;
	if (!(pr->cr4 & CR4_PAE)) {
		esize = 4;
		nx_exists = false; /* 32-bit entries have no XD bit */
		why = walk32(&w, pr, mb);
	} else if (!(pr->efer & EFER_LMA)) {
		why = walk_pae(&w, pr, mb, pa_mask, addr_rsvd);
	} else {
		/* 4-level / 5-level (SDM §4.5): bits 51:M reserved, 62:52
		 * ignored, XD reserved without NXE. */
		uint64_t rsvd = addr_rsvd | ((pr->efer & EFER_NXE) ? 0 : PTE_XD);
		if (pr->cr4 & CR4_LA57)
			why = walk64(&w, 5, pr->cr3 & pa_mask, rsvd, pa_mask, false);
		else
			why = walk64(&w, 4, pr->cr3 & pa_mask, rsvd, pa_mask, false);
	}
	/* Locals, so the checks below need not read r back (the compiler
	 * cannot tell that r and pr do not overlap). */
	bool user = (w.and_bits & PTE_US) != 0, writable = (w.and_bits & PTE_RW) != 0;
	bool nx = nx_exists && (pr->efer & EFER_NXE) && (w.or_bits & PTE_XD);
	r->nsteps = w.n;
	r->user = user;
	r->writable = writable;
	r->nx = nx;
	if (why != WALK_OK)
		return walk_fail(pr, acc, r, why);

	uint64_t fe = r->final_entry;
	unsigned pkey = (pr->efer & EFER_LMA) ? (unsigned)(fe >> 59) & 15 : 0;
	r->pkey = (uint8_t)pkey;
	if (!(acc & WALK_NO_FAULT_CHECK)) {
		bool pk = pk_denied(pr, user, pkey, acc);
		if (pk || !rights_allow(pr, user, writable, nx, acc)) {
			walk_fail(pr, acc, r, WALK_PERM);
			if (pk)
				r->pfec |= PFEC_PK;
			return r->status;
		}
	}
	bool set_d = (acc & (WALK_WRITE | WALK_FETCH)) == WALK_WRITE && !(fe & PTE_D);
	if (!(acc & WALK_NO_AD) && (w.no_a || set_d) &&
	    !update_ad(m, s2, lin, r, hpa, host, w.no_a, esize, set_d))
		return walk_fail(pr, acc, r, WALK_S2);
	r->dirty = (r->final_entry & PTE_D) != 0;
	r->global = (r->final_entry & PTE_G) && (pr->cr4 & CR4_PGE);

stage2:
	r->hpa = r->gpa;
	if (s2 && s2->xlate(s2->opaque, r->gpa, lin, false, acc, &r->hpa)) {
		r->status = WALK_STAGE2;
		return WALK_STAGE2;
	}
	return WALK_OK;
}

bool mmu_load_pdptes(struct mmu *m, struct paging_regs *pr, const struct stage2 *s2)
{
	/* SDM §4.4.1: the PDPT is 32-byte aligned at CR3 bits 31:5. A second
	 * stage sees one table read (the 32 bytes never cross a page); when it
	 * refuses, this returns false too and the caller looks at the second
	 * stage's own fault record. Linear address: none (0). */
	uint64_t gpa = pr->cr3 & 0xffffffe0u, hpa = gpa;
	if (s2 && s2->xlate(s2->opaque, gpa, 0, true, 0, &hpa))
		return false;
	uint64_t rsvd = PDPTE_RSVD | BITS(63, mmu_maxphyaddr(m));
	uint64_t e[4];
	for (int i = 0; i < 4; i++) {
		e[i] = phys_read(m, hpa + 8 * i, 8);
		if ((e[i] & PTE_P) && (e[i] & rsvd))
			return false;
	}
	for (int i = 0; i < 4; i++)
		pr->pdpte[i] = e[i];
	pr->pdpte_valid = true;
	return true;
}
