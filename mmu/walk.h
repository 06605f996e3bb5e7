/*
 * mmu/walk.h — the page-table walker, a pure function of paging registers and
 * memory. It serves the CPU's TLB fill, VMX/SVM (with a second stage that
 * translates every guest-physical address the walk touches, table reads and
 * A/D writes included), the debugger and the page-walk teaching tool (which
 * reads the per-level trace).
 *
 * Supported: no paging, 32-bit (4K and 4M pages with PSE/PSE-36), PAE
 * (PDPTEs from the cached registers), 4-level and 5-level (LA57); NX, WP,
 * SMEP, SMAP, protection keys (PKU with PKRU, PKS with IA32_PKRS, 4- and
 * 5-level paging only); accessed and dirty updates.
 */
#ifndef NESTBOX_MMU_WALK_H
#define NESTBOX_MMU_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct mmu;

struct paging_regs {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t pdpte[4]; /* PAE mode: PDPTE registers loaded at CR3 write */
	bool pdpte_valid;  /* false: read PDPTEs from memory at cr3 */
	/* Protection-key rights (AD = bit 2k, WD = bit 2k+1 for key k), used
	 * with CR4.PKE (user pages) / CR4.PKS (supervisor pages). */
	uint32_t pkru, pkrs;
	/* AMD's reserved bits: bit 8 of a PML5E/PML4E is reserved (Intel
	 * ignores it). Set for AMD models and for NPT (AMD's format). */
	bool amd;
};

/* Access flags for mmu_walk. */
#define WALK_WRITE 0x01
#define WALK_USER  0x02 /* CPL 3 (explicit user access) */
#define WALK_FETCH 0x04
#define WALK_SUPV                                               \
	0x08 /* implicit supervisor access (descriptor tables): \
		not subject to SMAP's AC override */
#define WALK_AC                                                                    \
	0x10                     /* RFLAGS.AC = 1: SMAP allows explicit supervisor \
				    data accesses to user pages */
#define WALK_NO_AD          0x20 /* do not set accessed/dirty bits (inspection) */
#define WALK_NO_FAULT_CHECK 0x40 /* translate only, ignore permissions */

/* #PF error code bits (SDM Vol. 3 §4.7). */
#define PFEC_P    0x01
#define PFEC_W    0x02
#define PFEC_U    0x04
#define PFEC_RSVD 0x08
#define PFEC_I    0x10
#define PFEC_PK   0x20

/* Second-stage translation (EPT/NPT), or NULL for none. Called for every
 * guest-physical address the walk reads or writes (is_walk = true; walk_acc
 * = 0 for a table read, WALK_WRITE for an A/D update) and for the final
 * address (is_walk = false; walk_acc = the access's WALK_* flags). Returns
 * 0 and sets *hpa, or nonzero to abort the walk (the second stage records
 * its own fault details, e.g. the EPT-violation qualification, in opaque). */
struct stage2 {
	int (*xlate)(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		     uint64_t *hpa);
	void *opaque;
};

enum walk_status {
	WALK_OK = 0,
	WALK_PF = 1,
	WALK_STAGE2 = 2
};

struct walk_step {
	int level;          /* 5..1 (4-level: PML4=4, PDPT=3, PD=2, PT=1) */
	uint64_t entry_gpa; /* guest-physical address of the entry read */
	uint64_t entry;     /* its value (after any A/D update) */
};

struct walk_result {
	enum walk_status status;
	uint32_t pfec;      /* #PF error code when status == WALK_PF */
	uint64_t gpa;       /* guest-physical address of lin (WALK_OK) */
	uint64_t hpa;       /* after the second stage (== gpa without one) */
	uint64_t page_size; /* 4K, 2M, 4M or 1G */
	bool user;          /* U/S allows user access (all levels) */
	bool writable;      /* R/W (all levels), before WP/CPL considerations */
	bool nx;            /* execute disabled at some level (with NXE) */
	bool global;
	bool dirty; /* D set in the final entry (or after update) */
	uint64_t final_entry;
	uint8_t pkey; /* protection key (leaf bits 62:59; 4/5-level paging) */
	int nsteps;
	struct walk_step steps[5];
};

/* Walk lin for access acc (WALK_* flags). Fills r; returns r->status.
 * Physical-address bits at or above the machine's MAXPHYADDR
 * (mmu_set_maxphyaddr) are reserved in every entry. */
enum walk_status mmu_walk(struct mmu *m, const struct paging_regs *pr, uint64_t lin, unsigned acc,
			  const struct stage2 *s2, struct walk_result *r);

/* Would an access with flags acc be allowed by the permissions in r under pr?
 * (Used by the TLB to cache per-privilege rights without re-walking.) */
bool walk_allows(const struct paging_regs *pr, const struct walk_result *r, unsigned acc);

/* Load the four PAE PDPTEs from CR3 (MOV CR3 / CR0/CR4 paging changes).
 * Returns false if one has reserved bits set (the caller raises #GP(0)). */
bool mmu_load_pdptes(struct mmu *m, struct paging_regs *pr, const struct stage2 *s2);

#endif
