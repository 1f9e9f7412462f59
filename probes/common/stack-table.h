/* stack-table.h - the probe-side stack deduplication: a lock-free hash table from a stack's ips
 * to a small id, so each distinct stack is written to the trace once (PS_REC_STACK).
 *
 * mmap'd, never malloc; lookups and inserts are lock-free (one CAS on insert) and
 * async-signal-safe. A 64-bit hash stands for the stack (a collision would merge two stacks;
 * the chance is ~n^2/2^65). When the table is full every new stack gets a fresh id (written
 * again each time), never an error.
 */
#ifndef PERFSWEEP_STACK_TABLE_H
#define PERFSWEEP_STACK_TABLE_H

#include <stdint.h>

#include "trace-writer.h"

/* Maps the table. Returns 0 or a negative errno. Call once from the constructor. */
int ps_stack_table_init(void);

/* The id of the stack ips[0..n); *is_new is set to 1 when the caller must write the stack's
 * record now (ps_stack_put_record) before using the id. Never fails. */
uint32_t ps_stack_id(const uintptr_t *ips, unsigned n, int *is_new);

/* Writes a PS_REC_STACK record at p (needs at most 3*PS_VARINT_MAX + n*PS_VARINT_MAX bytes);
 * returns the next write position. */
uint8_t *ps_stack_put_record(struct ps_tbuf *b, uint8_t *p, uint32_t id, const uintptr_t *ips,
                             unsigned n);

/* Bytes a stack record of n frames may need. */
#define PS_STACK_REC_MAX(n) (4u * PS_VARINT_MAX + (size_t)(n) * PS_VARINT_MAX)

/* In a forked child: forget every stack (the child's trace must define its own). */
void ps_stack_table_reset(void);

#endif
