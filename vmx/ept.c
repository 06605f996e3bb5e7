/*
 * vmx/ept.c — extended page tables (Intel SDM Vol. 3C §29.3): the second
 * stage that translates every guest-physical address of a guest with
 * "enable EPT" (virt_ops.stage2, contract of struct stage2 in mmu/walk.h),
 * its VM-entry checks of the EPT pointer, and the EPT-violation and
 * EPT-misconfiguration exits. A failed translation performs the exit
 * itself (cpu_unwind): vmx_ept_xlate never returns nonzero.
 *
 * EPT pointer (§25.6.11): bits 2:0 memory type (0 UC, 6 WB), 5:3 walk
 * length - 1 (3 = 4 levels), bit 6 A/D enable, 11:7 reserved, N-1:12 PML4.
 *
 * Entry (Tables 29-1..29-6): bit 0 read, 1 write, 2 execute, 5:3 memory
 * type (leaves), 7 page size (PDPTE: 1G, PDE: 2M), 8 accessed, 9 dirty
 * (with EPTP bit 6), N-1:12 address.
 *
 *   47        39 38       30 29       21 20       12 11         0
 *  | PML4 index | PDPT index |  PD index | PT index |   offset    |
 */
#include <stdio.h>

#include "cpu/cpuid.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "vmx/vmx_state.h"

/* IA32_VMX_EPT_VPID_CAP bits (App. A.10). */
#define EPTCAP_XONLY (1ull << 0)
#define EPTCAP_WALK4 (1ull << 6)
#define EPTCAP_UC    (1ull << 8)
#define EPTCAP_WB    (1ull << 14)
#define EPTCAP_2M    (1ull << 16)
#define EPTCAP_1G    (1ull << 17)
#define EPTCAP_AD    (1ull << 21)

bool vmx_eptp_valid(const struct cpu *cpu, const struct vmx_caps *c, uint64_t eptp)
{
	uint64_t cap = vmx_caps_get(c, MSR_IA32_VMX_EPT_VPID_CAP);
	unsigned mt = eptp & 7, walk = (eptp >> 3) & 7;
	if (!((mt == 0 && (cap & EPTCAP_UC)) || (mt == 6 && (cap & EPTCAP_WB))))
		return false;
	if (!(walk == 3 && (cap & EPTCAP_WALK4)))
		return false;
	if ((eptp & (1ull << 6)) && !(cap & EPTCAP_AD))
		return false;
	if (eptp & 0xf80)
		return false;
	return !(eptp >> cpu->model->phys_addr_bits);
}

static inline bool bad_memtype(uint64_t e)
{
	unsigned mt = (e >> 3) & 7;
	return mt == 2 || mt == 3 || mt == 7;
}

/* Is the entry misconfigured (§29.3.3.1)? level 4..1, leaf when it maps a
 * page. */
static bool misconfigured(const struct cpu *cpu, uint64_t cap, uint64_t e, int level, bool leaf)
{
	unsigned rwx = e & 7;
	if (rwx == 2 || rwx == 6)
		return true; /* writable without readable */
	if (rwx == 4 && !(cap & EPTCAP_XONLY))
		return true;
	uint64_t rsvd = ~((1ull << cpu->model->phys_addr_bits) - 1) & 0x000fffffffffffffull;
	if (level == 4)
		rsvd |= 0xf8; /* bits 7:3 */
	else if (!leaf)
		rsvd |= 0x78; /* bits 6:3 (bit 7 = 0 here) */
	else if (level == 3)
		rsvd |= 0x3ffff000ull; /* 1G page: bits 29:12 */
	else if (level == 2)
		rsvd |= 0x1ff000ull; /* 2M page: bits 20:12 */
	if (e & rsvd)
		return true;
	return leaf && bad_memtype(e);
}

/* Log one guest-physical address in the PML log, or exit when it is full
 * (the access does not happen: RIP is the instruction, like an EPT
 * violation). */
static void pml_log(struct cpu *cpu, struct vmx_state *s, uint64_t gpa, bool is_walk,
		    unsigned walk_acc)
{
	struct vmcs *v = &s->cur;
	uint16_t idx = v->guest_pml_index;
	if (idx >= PML_ENTRIES) {
		v->exit_intr_info = 0;
		v->exit_insn_len = 0;
		vmx_vmexit(cpu, EXIT_REASON_PML_FULL, 0,
			   (!is_walk && (walk_acc & WALK_FETCH)) ? cpu->rip : cpu->ip_start);
	}
	phys_write(cpu->mmu, v->pml_address + (uint64_t)idx * 8, 8, gpa & ~0xfffull);
	v->guest_pml_index = (uint16_t)(idx - 1);
}

int vmx_ept_xlate(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		  uint64_t *hpa)
{
	struct cpu *cpu = opaque;
	struct vmx_state *s = vmx_st(cpu);
	uint64_t cap = vmx_caps_get(&s->caps, MSR_IA32_VMX_EPT_VPID_CAP);
	uint64_t addr_mask = ((1ull << cpu->model->phys_addr_bits) - 1) & ~0xfffull;
	uint64_t table = s->cur.ept_pointer & addr_mask;
	unsigned perm = 7;
	uint64_t e = 0;
	int level;
	bool leaf = false;

	/* What the access needs: walks read tables (A/D updates write them). */
	unsigned need = is_walk                   ? ((walk_acc & WALK_WRITE) ? 3 : 1)
			: (walk_acc & WALK_WRITE) ? 2
			: (walk_acc & WALK_FETCH) ? 4
						  : 1;
	/* With EPT A/D flags, guest paging-structure accesses are writes for
	 * EPT (§29.3.5). */
	bool ad = s->cur.ept_pointer & (1ull << 6);
	if (ad && is_walk)
		need |= 3;
	uint64_t ent_addr[4];
	int nent = 0;
	for (level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		ent_addr[nent++] = table + ((gpa >> shift) & 511) * 8;
		e = phys_read(cpu->mmu, ent_addr[nent - 1], 8);
		if (!(e & 7)) {
			perm = 0;
			goto violation;
		}
		leaf = level == 1 || (level <= 3 && (e & 0x80) &&
				      (level == 2 ? (cap & EPTCAP_2M) : (cap & EPTCAP_1G)));
		if (level == 3 && (e & 0x80) && !(cap & EPTCAP_1G))
			goto misconfig;
		if (misconfigured(cpu, cap, e, level, leaf))
			goto misconfig;
		perm &= e & 7;
		if (leaf)
			break;
		table = e & addr_mask;
	}
	if ((perm & need) != need)
		goto violation;
	if (ad) {
		/* Page-modification logging (§29.3.6): before the leaf's dirty
		 * flag goes from 0 to 1, log the 4-KByte-aligned guest-physical
		 * address, or exit "PML full" (reason 62) without setting any
		 * flag when the index is outside 0..511. */
		if ((need & 2) && (vmx_sec_ctls(&s->cur) & PROC2_PML) &&
		    !(phys_read(cpu->mmu, ent_addr[nent - 1], 8) & (1ull << 9)))
			pml_log(cpu, s, gpa, is_walk, walk_acc);
		/* Accessed in every entry used, dirty in the leaf on a write. */
		for (int i = 0; i < nent; i++) {
			uint64_t x = phys_read(cpu->mmu, ent_addr[i], 8);
			uint64_t y =
				x | (1ull << 8) | (i == nent - 1 && (need & 2) ? 1ull << 9 : 0);
			if (y != x)
				phys_write(cpu->mmu, ent_addr[i], 8, y);
		}
	}
	{
		uint64_t psize = 1ull << (12 + 9 * (unsigned)(level - 1));
		*hpa = (e & addr_mask & ~(psize - 1)) | (gpa & (psize - 1));
	}
	return 0;

violation : {
	/* Qualification (§28.2.1, Table 28-7): bits 2:0 the access, 5:3 the
	 * permissions of the translation, 7 linear address valid, 8 final
	 * translation (1) or a paging-structure access (0). */
	uint64_t q = need & 7;
	q |= (uint64_t)(perm & 7) << 3;
	q |= 1u << 7;
	if (!is_walk)
		q |= 1u << 8;
	s->cur.guest_phys_addr = gpa;
	s->cur.guest_linear_addr = lin;
	s->cur.exit_intr_info = 0;
	s->cur.exit_insn_len = 0;
	uint64_t rip = (!is_walk && (walk_acc & WALK_FETCH)) ? cpu->rip : cpu->ip_start;
	vmx_vmexit(cpu, EXIT_REASON_EPT_VIOLATION, q, rip);
}
misconfig:
	s->cur.guest_phys_addr = gpa;
	s->cur.exit_intr_info = 0;
	s->cur.exit_insn_len = 0;
	vmx_vmexit(cpu, EXIT_REASON_EPT_MISCONFIG, 0,
		   (!is_walk && (walk_acc & WALK_FETCH)) ? cpu->rip : cpu->ip_start);
}
