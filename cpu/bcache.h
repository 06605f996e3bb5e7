/*
 * cpu/bcache.h — the decoded-block cache ("decode once", design §3).
 *
 * A block is a run of decoded instructions starting at a guest-physical
 * address, decoded for one code size (16/32/64). Blocks never cross a 4K
 * page (an instruction that would straddle two pages is executed uncached),
 * so each block belongs to exactly one physical page; the page is marked as
 * code in the mmu, and the first write to it (CPU slow path or DMA) calls
 * bcache_invalidate_page, which retires every block of the page. Retired
 * blocks are freed at the next bcache_collect (top of cpu_run), never while
 * an instruction of theirs may still be executing.
 *
 * One cache per machine, shared by its vCPUs (they run in one thread).
 */
#ifndef NESTBOX_CPU_BCACHE_H
#define NESTBOX_CPU_BCACHE_H

#include <stdint.h>

#include "cpu/insn.h"

#define BLOCK_MAX_INSNS 32

struct machine;

struct bblock {
	uint64_t phys;        /* guest-physical address of the first byte */
	struct bblock *hnext; /* hash chain */
	struct bblock *pnext; /* same-page chain */
	uint32_t key;         /* code size in bits */
	uint16_t ninsn;
	uint16_t valid;
	struct insn insn[];
};

struct block_cache;

struct block_cache *bcache_new(struct machine *m);
void bcache_free(struct block_cache *bc);
struct bblock *bcache_lookup(struct block_cache *bc, uint64_t phys, uint32_t key);
/* Insert a block built from n decoded instructions (copied). */
struct bblock *bcache_insert(struct block_cache *bc, uint64_t phys, uint32_t key,
			     const struct insn *insns, int n);
void bcache_invalidate_page(struct block_cache *bc, uint64_t page);
void bcache_flush(struct block_cache *bc);
void bcache_collect(struct block_cache *bc);

#endif
