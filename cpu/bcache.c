/*
 * cpu/bcache.c — decoded-block cache: hash by (physical address, code size),
 * per-page chains for invalidation, deferred freeing. See cpu/bcache.h.
 */
#include "cpu/bcache.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

#define HASH_BITS      16
#define PAGE_HASH_BITS 12
/* Flush everything when this many blocks are live (bounds host memory). */
#define MAX_BLOCKS (1u << 18)

struct page_ent {
	uint64_t page;
	struct bblock *blocks;
	struct page_ent *next;
};

struct block_cache {
	struct machine *m;
	struct bblock *hash[1u << HASH_BITS];
	struct page_ent *pages[1u << PAGE_HASH_BITS];
	struct bblock *zombies; /* retired, chained through hnext */
	unsigned nblocks;
	int flush_pending;
};

static inline unsigned hash_of(uint64_t phys, uint32_t key)
{
	uint64_t h = (phys ^ ((uint64_t)key << 40)) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> (64 - HASH_BITS));
}

static inline unsigned page_hash(uint64_t page)
{
	return (unsigned)(((page >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - PAGE_HASH_BITS));
}

struct block_cache *bcache_new(struct machine *m)
{
	struct block_cache *bc = calloc(1, sizeof(*bc));
	if (bc)
		bc->m = m;
	return bc;
}

static void free_chain(struct bblock *b)
{
	while (b) {
		struct bblock *n = b->hnext;
		free(b);
		b = n;
	}
}

static void drop_all(struct block_cache *bc)
{
	for (unsigned i = 0; i < (1u << HASH_BITS); i++) {
		struct bblock *b = bc->hash[i];
		while (b) {
			struct bblock *n = b->hnext;
			b->valid = 0;
			b->hnext = bc->zombies;
			bc->zombies = b;
			b = n;
		}
		bc->hash[i] = NULL;
	}
	for (unsigned i = 0; i < (1u << PAGE_HASH_BITS); i++) {
		struct page_ent *p = bc->pages[i];
		while (p) {
			struct page_ent *n = p->next;
			free(p);
			p = n;
		}
		bc->pages[i] = NULL;
	}
	bc->nblocks = 0;
}

void bcache_free(struct block_cache *bc)
{
	if (!bc)
		return;
	drop_all(bc);
	free_chain(bc->zombies);
	free(bc);
}

struct bblock *bcache_lookup(struct block_cache *bc, uint64_t phys, uint32_t key)
{
	struct bblock **pp = &bc->hash[hash_of(phys, key)];
	for (struct bblock *b = *pp; b; pp = &b->hnext, b = b->hnext) {
		if (b->phys == phys && b->key == key) {
			/* Move to front: loops hit the same block again and again. */
			if (pp != &bc->hash[hash_of(phys, key)]) {
				*pp = b->hnext;
				b->hnext = bc->hash[hash_of(phys, key)];
				bc->hash[hash_of(phys, key)] = b;
			}
			return b;
		}
	}
	return NULL;
}

static void kick_cpus(struct block_cache *bc)
{
	struct machine *m = bc->m;
	if (!m)
		return;
	for (int i = 0; i < m->ncpus; i++)
		if (m->cpu[i])
			m->cpu[i]->pending |= PEND_MODE;
}

struct bblock *bcache_insert(struct block_cache *bc, uint64_t phys, uint32_t key,
			     const struct insn *insns, int n)
{
	if (bc->nblocks >= MAX_BLOCKS) {
		drop_all(bc);
		kick_cpus(bc);
	}
	uint64_t page = phys & ~0xfffull;
	struct page_ent *pe;
	unsigned ph = page_hash(page);
	for (pe = bc->pages[ph]; pe; pe = pe->next)
		if (pe->page == page)
			break;
	if (!pe) {
		pe = calloc(1, sizeof(*pe));
		if (!pe)
			return NULL;
		pe->page = page;
		pe->next = bc->pages[ph];
		bc->pages[ph] = pe;
		/* First block on this page: writes must now take the slow path. */
		if (bc->m) {
			mmu_mark_code(bc->m->mmu, page);
			for (int i = 0; i < bc->m->ncpus; i++)
				if (bc->m->cpu[i])
					cpu_tlb_flush_writes_to(bc->m->cpu[i], page);
		}
	}
	struct bblock *b = malloc(sizeof(*b) + (size_t)n * sizeof(struct insn));
	if (!b)
		return NULL;
	b->phys = phys;
	b->key = key;
	b->ninsn = (uint16_t)n;
	b->valid = 1;
	memcpy(b->insn, insns, (size_t)n * sizeof(struct insn));
	unsigned h = hash_of(phys, key);
	b->hnext = bc->hash[h];
	bc->hash[h] = b;
	b->pnext = pe->blocks;
	pe->blocks = b;
	bc->nblocks++;
	return b;
}

static void unlink_hash(struct block_cache *bc, struct bblock *b)
{
	struct bblock **pp = &bc->hash[hash_of(b->phys, b->key)];
	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
}

void bcache_invalidate_page(struct block_cache *bc, uint64_t page)
{
	page &= ~0xfffull;
	struct page_ent **pp = &bc->pages[page_hash(page)];
	while (*pp && (*pp)->page != page)
		pp = &(*pp)->next;
	struct page_ent *pe = *pp;
	if (!pe)
		return;
	*pp = pe->next;
	for (struct bblock *b = pe->blocks, *n; b; b = n) {
		n = b->pnext;
		unlink_hash(bc, b);
		b->valid = 0;
		b->hnext = bc->zombies;
		bc->zombies = b;
		bc->nblocks--;
	}
	free(pe);
	kick_cpus(bc);
}

void bcache_flush(struct block_cache *bc)
{
	drop_all(bc);
	kick_cpus(bc);
}

void bcache_collect(struct block_cache *bc)
{
	if (bc->zombies) {
		free_chain(bc->zombies);
		bc->zombies = NULL;
	}
}
