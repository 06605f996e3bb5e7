/*
 * cpu/decode.h — x86 instruction decoder (prefixes, REX, VEX, ModRM, SIB,
 * displacement, immediates) for 16-, 32- and 64-bit code.
 *
 * decode_bytes() is pure (no CPU needed), so the Capstone cross-check and the
 * tools can use it; decode_insn() fetches through the CPU (faults are raised
 * by the caller only when the instruction is actually executed).
 */
#ifndef NESTBOX_CPU_DECODE_H
#define NESTBOX_CPU_DECODE_H

#include <stdint.h>

#include "cpu/insn.h"

struct cpu_model;

/* Result codes of decode_bytes (>0 is the instruction length). */
#define DEC_UD      (-1) /* undefined opcode or invalid encoding: #UD */
#define DEC_TOOLONG (-2) /* longer than 15 bytes: #GP(0) */
#define DEC_MORE    (-3) /* needs more bytes than avail */

/* Decode one instruction from buf (avail bytes valid) for code of the given
 * default size (16, 32 or 64 bits). On success fills *in (fn from the
 * registry, or a #UD handler if the opcode is known but not implemented or
 * its feature is not advertised by model; model may be NULL = all features)
 * and returns the length. DEC_UD is returned only for encodings the SDM
 * opcode maps leave undefined (what Capstone would also reject). */
int decode_bytes(const uint8_t *buf, unsigned avail, int code_bits, const struct cpu_model *model,
		 struct insn *in);

/* Handler used for opcodes that decode but must raise #UD at execution. */
void op_ud(struct cpu *cpu, const struct insn *in);

#endif
