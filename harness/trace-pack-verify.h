/* trace-pack-verify.h - checks a packed stream while the packer writes it: a second thread
 * unpacks each piece (copied) and compares the result with the raw bytes, so the packer never
 * stores something that would not read back exactly. Used by trace-pack-write.c only (verify 2;
 * the harness uses the cheaper per-record check, verify 1).
 */
#ifndef PERFSWEEP_TRACE_PACK_VERIFY_H
#define PERFSWEEP_TRACE_PACK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct pk_verify;

/* Starts checking a packed stream against raw[0..len) (which must stay mapped until
 * pk_verify_finish). Runs in a thread, or inline in pk_verify_feed when no thread can start.
 * Never fails (allocation failure exits). */
struct pk_verify *pk_verify_start(const uint8_t *raw, size_t len);

/* Hands the next piece of the packed stream over (copied). Returns 0, or -EPROTO once a
 * difference was found. */
int pk_verify_feed(struct pk_verify *v, const void *buf, size_t len);

/* Waits for the check to end and frees v. Returns 0 when the whole stream unpacked to exactly
 * raw, else -EPROTO. With abandon, only stops and frees (returns -ECANCELED). */
int pk_verify_finish(struct pk_verify *v, int abandon);

#endif
