/* fx-time.h - UTC timestamps as the shop platform writes them ("2026-01-01T00:00:00Z") and
 * integer money as it writes prices ("19.99"). Pure integer arithmetic: no locale, no libc
 * time zone, no floating point, so the generator's bytes are the same on every machine.
 */
#ifndef PERFSWEEP_FX_TIME_H
#define PERFSWEEP_FX_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "fx-rows.h"

/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ" (20 bytes). Returns 0 and sets *t, or -1 when the text
 * is not such a timestamp or names an impossible date. */
int fx_time_parse(const char *s, size_t n, fx_time *t);
/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" plus NUL into out (21 bytes). Never fails. */
void fx_time_format(fx_time t, char out[21]);
/* Parses a decimal price ("19.99", "5", "5.5") into cents. Returns 0, or -1 for anything
 * else: sign, more than two decimals, no digits, more than 10,000,000 units. */
int fx_price_parse(const char *s, size_t n, int64_t *cents);

#endif
