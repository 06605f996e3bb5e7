/*
 * cpu/ops_bit.c — legacy-encoded bit manipulation: BT/BTS/BTR/BTC (0F A3, AB,
 * B3, BB, 0F BA /4-/7), BSF/BSR (0F BC, BD), TZCNT/LZCNT (F3 0F BC, BD),
 * POPCNT (F3 0F B8), ADCX/ADOX (66/F3 0F38 F6), CRC32 (F2 0F38 F0/F1), MOVBE
 * (0F38 F0/F1), BSWAP (0F C8+r); ops_bit_register() also registers the VEX
 * BMI1/BMI2 file (ops_bit_bmi.c).
 *
 * Undefined flags (differential tests mask them):
 *  - BT*: CF = the bit; ZF is unaffected (SDM); OF/SF/AF/PF are left
 *    unchanged as well.
 *  - BSF/BSR: ZF = (source == 0); CF = OF = AF = SF = 0, PF of the index.
 *  - LZCNT/TZCNT: OF, SF, AF, PF = 0.
 */
#include "cpu/cpuid.h"
#include "cpu/ops_alu.h"

static inline bool has_feat(const struct cpu *c, unsigned f)
{
	return c->model == NULL || model_has(c->model, f);
}

/* ---- BT / BTS / BTR / BTC ---- */

enum bt_op {
	BT_TEST,
	BT_SET,
	BT_RESET,
	BT_COMP
};

static inline uint64_t bt_apply(enum bt_op op, uint64_t v, unsigned bit)
{
	switch (op) {
	case BT_SET:
		return v | 1ull << bit;
	case BT_RESET:
		return v & ~(1ull << bit);
	case BT_COMP:
		return v ^ 1ull << bit;
	default:
		return v;
	}
}

static inline uint64_t asz_mask(const struct insn *in)
{
	return in->asz == 8 ? ~0ull : in->asz == 4 ? 0xffffffffull : 0xffff;
}

/* off: bit offset (register source: full signed value; immediate: already
 * masked). A register offset with a memory operand addresses the bit
 * string beyond the operand: SDM Vol. 2 "BT", the operand-size-sized unit at
 * EA + size * (offset SAR log2(size * 8)) (Vol. 1 §3.4.1 "bit base"). */
static inline void bt_do(struct cpu *c, const struct insn *in, enum bt_op op, uint64_t off,
			 bool reg_off)
{
	unsigned size = in->osz, bit = (unsigned)off & (size * 8 - 1);
	uint32_t f = flags_arith(c) & ~F_CF;
	uint64_t v;

	if (in->mod == 3) {
		v = gpr_rd(c, in, in->rm, size);
		if (op != BT_TEST)
			gpr_wr(c, in, in->rm, size, bt_apply(op, v, bit));
	} else {
		uint64_t ea = insn_ea(c, in);

		if (reg_off) {
			unsigned lg = size == 2 ? 4 : size == 4 ? 5 : 6;
			int64_t unit = (int64_t)alu_sext(off, size) >> lg;

			ea = (ea + (uint64_t)unit * size) & asz_mask(in);
		}
		v = cpu_rd(c, in->seg, ea, size);
		if (op != BT_TEST)
			cpu_wr(c, in->seg, ea, size, bt_apply(op, v, bit));
	}
	lf_set_eflags(c, f | (uint32_t)((v >> bit) & 1));
}

static void bt_EvGv(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_TEST, gpr_rd(c, in, in->reg, in->osz), true);
}

static void bts_EvGv(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_SET, gpr_rd(c, in, in->reg, in->osz), true);
}

static void btr_EvGv(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_RESET, gpr_rd(c, in, in->reg, in->osz), true);
}

static void btc_EvGv(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_COMP, gpr_rd(c, in, in->reg, in->osz), true);
}

static void bt_EvIb(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_TEST, in->imm & 0xff, false);
}

static void bts_EvIb(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_SET, in->imm & 0xff, false);
}

static void btr_EvIb(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_RESET, in->imm & 0xff, false);
}

static void btc_EvIb(struct cpu *c, const struct insn *in)
{
	bt_do(c, in, BT_COMP, in->imm & 0xff, false);
}

/* ---- BSF / BSR / TZCNT / LZCNT / POPCNT ---- */

/* Flags of BSF/BSR: ZF = (source == 0). The rest is undefined (SDM); Intel
 * and AMD cores give the flags of a logic operation on the index found, with
 * ZF then replaced: CF = OF = AF = SF = 0, PF = parity of the index (of 0
 * for a zero source). */
static inline uint32_t bsx_flags(uint64_t s, unsigned idx)
{
	if (s == 0)
		return F_ZF | F_PF;
	return __builtin_parity(idx) ? 0 : F_PF;
}

/* Source 0: ZF = 1 and the destination is left unchanged, all 64 bits (what
 * Intel and AMD cores do; AMD documents it, Intel calls it undefined). */
static void bsf(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz, idx = 0;
	uint64_t s = rm_read(c, in, size);

	if (s) {
		idx = (unsigned)__builtin_ctzll(s);
		reg_set(c, in->reg, (int)size, idx);
	}
	lf_set_eflags(c, bsx_flags(s, idx));
}

static void bsr(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz, idx = 0;
	uint64_t s = rm_read(c, in, size);

	if (s) {
		idx = 63u - (unsigned)__builtin_clzll(s);
		reg_set(c, in->reg, (int)size, idx);
	}
	lf_set_eflags(c, bsx_flags(s, idx));
}

/* CF = source was 0, ZF = result is 0. */
static inline void cnt_done(struct cpu *c, const struct insn *in, unsigned size, uint64_t s,
			    uint64_t cnt)
{
	reg_set(c, in->reg, (int)size, cnt);
	lf_set_eflags(c, (s == 0 ? F_CF : 0) | (cnt == 0 ? F_ZF : 0));
}

/* F3 0F BC is TZCNT with BMI1, else the F3 is an ignored REP and it is BSF
 * (so binaries using "rep bsf" run on any model). */
static void tzcnt(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t s;

	if (!has_feat(c, FEAT_BMI1)) {
		bsf(c, in);
		return;
	}
	s = rm_read(c, in, size);
	cnt_done(c, in, size, s, s ? (uint64_t)__builtin_ctzll(s) : size * 8);
}

/* F3 0F BD is LZCNT with ABM (LZCNT), else BSR. */
static void lzcnt(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t s;

	if (!has_feat(c, FEAT_ABM)) {
		bsr(c, in);
		return;
	}
	s = rm_read(c, in, size);
	cnt_done(c, in, size, s, s ? (uint64_t)(__builtin_clzll(s) - (64 - size * 8)) : size * 8);
}

/* POPCNT: ZF = (source == 0), OF/SF/AF/CF/PF cleared (SDM). */
static void popcnt(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t s = rm_read(c, in, size);

	reg_set(c, in->reg, (int)size, (uint64_t)__builtin_popcountll(s));
	lf_set_eflags(c, s == 0 ? F_ZF : 0);
}

/* ---- ADCX / ADOX: add with carry through CF or OF only ---- */

static inline void adx_do(struct cpu *c, const struct insn *in, uint32_t flag)
{
	/* 66/F3 are mandatory here: the size is 32, or 64 with REX.W. */
	unsigned size = in->pfx & PFX_REXW ? 8 : 4;
	uint64_t b = rm_read(c, in, size), a = reg_get(c, in->reg, (int)size);
	uint32_t f = flags_arith(c);
	bool cin = f & flag;
	uint64_t res = (a + b + cin) & alu_mask(size);
	bool cout = cin ? res <= a : res < a;

	reg_set(c, in->reg, (int)size, res);
	lf_set_eflags(c, (f & ~flag) | (cout ? flag : 0));
}

static void adcx(struct cpu *c, const struct insn *in)
{
	adx_do(c, in, F_CF);
}

static void adox(struct cpu *c, const struct insn *in)
{
	adx_do(c, in, F_OF);
}

/* ---- CRC32: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) with no
 * pre/post inversion (SDM Vol. 2 "CRC32"). Table: 4 steps per nibble. ---- */

static const uint32_t crc32c_nib[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
	0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

static inline uint32_t crc32c_bytes(uint32_t crc, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		crc ^= (uint8_t)(v >> (i * 8));
		crc = (crc >> 4) ^ crc32c_nib[crc & 15];
		crc = (crc >> 4) ^ crc32c_nib[crc & 15];
	}
	return crc;
}

static inline void crc32_do(struct cpu *c, const struct insn *in, unsigned ssize)
{
	uint64_t v = rm_read(c, in, ssize);
	uint32_t crc = crc32c_bytes((uint32_t)c->gpr[in->reg], v, ssize);

	/* The result is 32 bits, zero-extended also with REX.W. */
	c->gpr[in->reg] = crc;
}

static void crc32_Eb(struct cpu *c, const struct insn *in)
{
	crc32_do(c, in, 1);
}

static void crc32_Ev(struct cpu *c, const struct insn *in)
{
	crc32_do(c, in, in->osz);
}

/* ---- MOVBE (memory only) and BSWAP ---- */

static inline uint64_t bswap_sz(uint64_t v, unsigned size)
{
	switch (size) {
	case 2:
		return __builtin_bswap16((uint16_t)v);
	case 4:
		return __builtin_bswap32((uint32_t)v);
	default:
		return __builtin_bswap64(v);
	}
}

static void movbe_load(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t v = cpu_rd(c, in->seg, insn_ea(c, in), size);

	reg_set(c, in->reg, (int)size, bswap_sz(v, size));
}

static void movbe_store(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;

	cpu_wr(c, in->seg, insn_ea(c, in), size, bswap_sz(reg_get(c, in->reg, (int)size), size));
}

/* 16-bit BSWAP is undefined (SDM); Intel and AMD cores clear the low 16
 * bits, which is what we do. */
static void bswap(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;

	reg_set(c, in->rm, (int)size, size == 2 ? 0 : bswap_sz(c->gpr[in->rm], size));
}

#define ANY OPT_ANY
#define L   OPF_LOCKABLE
#define E(opc, mp, r, fn, feat, nm)                                   \
	{                                                             \
		opc, mp, r, ANY, OPT_MOD_ANY, 0, ANY, 0, feat, fn, nm \
	}
/* BTS/BTR/BTC take LOCK with a memory destination. */
#define E_LK(opc, r, fn, nm)                                        \
	{ opc, ANY, r, ANY, OPT_MOD_REG, 0, ANY, 0, 0, fn, nm },    \
	{                                                           \
		opc, ANY, r, ANY, OPT_MOD_MEM, 0, ANY, L, 0, fn, nm \
	}
#define E_MEM(opc, mp, fn, feat, nm)                                    \
	{                                                               \
		opc, mp, ANY, ANY, OPT_MOD_MEM, 0, ANY, 0, feat, fn, nm \
	}

static const struct optab_entry bit_tab[] = {
	E(0x1a3, ANY, ANY, bt_EvGv, 0, "bt"),
	E_LK(0x1ab, ANY, bts_EvGv, "bts"),
	E_LK(0x1b3, ANY, btr_EvGv, "btr"),
	E_LK(0x1bb, ANY, btc_EvGv, "btc"),
	E(0x1ba, ANY, 4, bt_EvIb, 0, "bt"),
	E_LK(0x1ba, 5, bts_EvIb, "bts"),
	E_LK(0x1ba, 6, btr_EvIb, "btr"),
	E_LK(0x1ba, 7, btc_EvIb, "btc"),

	/* Specific (F3) before generic (any prefix: 66 = size, F2 ignored). */
	E(0x1b8, MP_F3, ANY, popcnt, FEAT_POPCNT, "popcnt"),
	E(0x1bc, MP_F3, ANY, tzcnt, 0, "tzcnt"),
	E(0x1bd, MP_F3, ANY, lzcnt, 0, "lzcnt"),
	E(0x1bc, ANY, ANY, bsf, 0, "bsf"),
	E(0x1bd, ANY, ANY, bsr, 0, "bsr"),

	E(0x2f6, MP_66, ANY, adcx, FEAT_ADX, "adcx"),
	E(0x2f6, MP_F3, ANY, adox, FEAT_ADX, "adox"),
	E(0x2f0, MP_F2, ANY, crc32_Eb, FEAT_SSE42, "crc32"),
	E(0x2f1, MP_F2, ANY, crc32_Ev, FEAT_SSE42, "crc32"),
	E_MEM(0x2f0, MP_NONE, movbe_load, FEAT_MOVBE, "movbe"),
	E_MEM(0x2f0, MP_66, movbe_load, FEAT_MOVBE, "movbe"),
	E_MEM(0x2f1, MP_NONE, movbe_store, FEAT_MOVBE, "movbe"),
	E_MEM(0x2f1, MP_66, movbe_store, FEAT_MOVBE, "movbe"),

	E(0x1c8, ANY, ANY, bswap, 0, "bswap"),
	E(0x1c9, ANY, ANY, bswap, 0, "bswap"),
	E(0x1ca, ANY, ANY, bswap, 0, "bswap"),
	E(0x1cb, ANY, ANY, bswap, 0, "bswap"),
	E(0x1cc, ANY, ANY, bswap, 0, "bswap"),
	E(0x1cd, ANY, ANY, bswap, 0, "bswap"),
	E(0x1ce, ANY, ANY, bswap, 0, "bswap"),
	E(0x1cf, ANY, ANY, bswap, 0, "bswap"),
};

void ops_bit_register(void)
{
	optab_add_many(bit_tab, (int)(sizeof(bit_tab) / sizeof(bit_tab[0])));
	ops_bit_bmi_register();
}
