/*
 * mmu/mmu.h — the machine's physical address space.
 *
 * RAM is one host allocation placed at guest-physical ranges (below the PCI
 * hole and above 4 GiB); ROMs are read-only copies; MMIO ranges dispatch to
 * device callbacks. A per-4K-page "code" bit marks pages that hold decoded
 * instructions: a write to such a page (through phys_write* or a CPU slow
 * path) calls the code_write hook so the block cache drops stale blocks, and
 * clears the bit.
 *
 * Page-table walks are in mmu/walk.h, the soft TLB in mmu/tlb.h.
 */
#ifndef NESTBOX_MMU_MMU_H
#define NESTBOX_MMU_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmio_ops {
	/* size is 1, 2, 4 or 8; off is relative to the region start */
	uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
	void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
};

struct mmu;

/* Create an address space with ram_size bytes of zeroed RAM (not yet mapped:
 * use mmu_map_ram). Returns NULL with a message on stderr if it can't. */
struct mmu *mmu_new(uint64_t ram_size);
void mmu_free(struct mmu *m);

uint8_t *mmu_ram(struct mmu *m);
uint64_t mmu_ram_size(const struct mmu *m);

/* Map [gpa, gpa+size) to RAM bytes [ram_off, ram_off+size). */
void mmu_map_ram(struct mmu *m, uint64_t gpa, uint64_t size, uint64_t ram_off);
/* Map a ROM image (copied) read-only at gpa; writes are ignored. */
void mmu_map_rom(struct mmu *m, uint64_t gpa, const void *data, uint64_t size);
/* Map an MMIO region; regions may overlap RAM/ROM and win over them
 * (the most recently mapped region wins where they overlap). */
void mmu_map_mmio(struct mmu *m, uint64_t gpa, uint64_t size, const struct mmio_ops *ops,
		  void *opaque, const char *name);
/* Leaves [gpa, gpa+size) unmapped: whatever a removed mapping hid does not
 * come back (re-map it if wanted). */
void mmu_unmap(struct mmu *m, uint64_t gpa, uint64_t size);
/* Called after every mmu_map_* / mmu_unmap with the changed range, so the
 * owner can flush soft TLBs (they cache host pointers of the old mapping). */
void mmu_set_map_change_hook(struct mmu *m, void (*fn)(void *opaque, uint64_t gpa, uint64_t size),
			     void *opaque);

/* Host pointer to the byte at gpa if it is RAM (or ROM and !write), valid up
 * to the end of its 4K page; NULL for MMIO/unmapped (or ROM when write). */
uint8_t *mmu_gpa_ptr(struct mmu *m, uint64_t gpa, bool write);

/* The largest range [*lo, *hi) around gpa that one RAM mapping answers, and
 * the host pointer of gpa in it; NULL if gpa is not RAM. For the page walker,
 * which reads many entries within one walk: valid until the address map
 * changes (only mmu_map_* / mmu_unmap, i.e. a device callback, can do that).
 * Writes through it must call mmu_note_write first. */
uint8_t *mmu_ram_span(struct mmu *m, uint64_t gpa, uint64_t *lo, uint64_t *hi);

/* Physical accesses of any kind (RAM, ROM, MMIO; unmapped reads return all
 * ones and writes are dropped, as on a PC bus). size 1/2/4/8, may cross pages. */
uint64_t phys_read(struct mmu *m, uint64_t gpa, unsigned size);
void phys_write(struct mmu *m, uint64_t gpa, unsigned size, uint64_t val);
void phys_read_buf(struct mmu *m, uint64_t gpa, void *buf, size_t n);
void phys_write_buf(struct mmu *m, uint64_t gpa, const void *buf, size_t n);

/* MAXPHYADDR of the machine's CPU model (CPUID 0x80000008 EAX[7:0]), used by
 * the page walker's reserved-bit checks. Default 52; clamped to 32..52. */
void mmu_set_maxphyaddr(struct mmu *m, unsigned bits);
unsigned mmu_maxphyaddr(const struct mmu *m);

/* Code-page tracking. */
void mmu_mark_code(struct mmu *m, uint64_t gpa);
bool mmu_is_code(const struct mmu *m, uint64_t gpa);
/* Hook called (once per page, then the bit is cleared) when a write touches
 * a code page. */
void mmu_set_code_write_hook(struct mmu *m, void (*fn)(void *opaque, uint64_t page_gpa),
			     void *opaque);
/* Tell the mmu a write to [gpa, gpa+n) is about to happen through a host
 * pointer obtained earlier (runs the code-write hook if needed). */
void mmu_note_write(struct mmu *m, uint64_t gpa, size_t n);

#endif
