/* sweep.h - the sweep matrix: axes of values (lists, ranges "1..64*2", "1..10+3"), cells as
 * their cartesian product, {name} placeholders in the command, shell quoting, shards, and the
 * seeded shuffled schedule that interleaves cells across repeats.
 *
 * Pure logic, no processes, no I/O: everything here is deterministic and unit tested.
 */
#ifndef PERFSWEEP_SWEEP_H
#define PERFSWEEP_SWEEP_H

#include <stddef.h>
#include <stdint.h>

enum ps_axis_kind {
  PS_AXIS_PARAM,     /* only substituted into the command */
  PS_AXIS_ENV,       /* also set as an environment variable of the same name */
  PS_AXIS_ALLOCATOR, /* glibc | jemalloc: jemalloc is preloaded */
};

struct ps_axis {
  char *name;
  enum ps_axis_kind kind;
  char **values;
  size_t nvalues;
};

struct ps_sweep {
  struct ps_axis *axes;
  size_t naxes;
};

/* Parses an axis value list: "a,b,c"; "LO..HI" (step 1); "LO..HI+STEP" (arithmetic);
 * "LO..HI*FACTOR" (geometric). Ranges are integers, inclusive, at most 100000 values; items of a
 * list may themselves be ranges ("1,8..32*2"). Returns the count and a malloc'd array of
 * malloc'd strings in *values, or -1 with a sentence in err (empty list, empty item, bad range). */
long ps_sweep_parse_values(const char *spec, char ***values, char *err, size_t errlen);

/* Adds an axis. name must be an identifier ([A-Za-z_][A-Za-z0-9_]*) not already used.
 * Returns 0, or -1 with a sentence in err. */
int ps_sweep_add_axis(struct ps_sweep *s, const char *name, enum ps_axis_kind kind,
                      const char *spec, char *err, size_t errlen);
/* Adds an axis from values already expanded (a spec file's array, a resumed sweep); copies them.
 * Same checks and returns as ps_sweep_add_axis (an empty array is refused). */
int ps_sweep_add_axis_values(struct ps_sweep *s, const char *name, enum ps_axis_kind kind,
                             char *const *values, size_t n, char *err, size_t errlen);
void ps_sweep_release(struct ps_sweep *s);
const struct ps_axis *ps_sweep_axis(const struct ps_sweep *s, const char *name);

/* Number of cells (1 when there are no axes). */
size_t ps_sweep_ncells(const struct ps_sweep *s);
/* The value of axis a in cell `cell`: the first axis varies slowest. Borrowed. */
const char *ps_sweep_value(const struct ps_sweep *s, size_t cell, size_t a);
/* "batch=100,workers=2" (axes in order); "default" when there are no axes. malloc'd. */
char *ps_sweep_cell_id(const struct ps_sweep *s, size_t cell);

/* Checks that every {name} placeholder in the words names an axis. Placeholders are {ident};
 * "{{" and "}}" stand for literal braces; anything else ("{}", "{1}") is left as it is.
 * Returns 0 or -1 with a sentence naming the placeholder and the known axes in err. */
int ps_sweep_check_placeholders(const struct ps_sweep *s, char *const *words, size_t nwords,
                                char *err, size_t errlen);
/* One word with the placeholders of `cell` replaced; when quote is set each value is
 * shell-quoted (for --shell). malloc'd. Unknown placeholders are kept as written. */
char *ps_sweep_expand(const struct ps_sweep *s, size_t cell, const char *word, int quote);
/* 'value' with every ' written as '\'' : safe as one word for /bin/sh. malloc'd. */
char *ps_shell_quote(const char *value);

/* "K/N" with 1 <= K <= N. Returns 0 or -1 with a sentence in err. */
int ps_shard_parse(const char *spec, unsigned *k, unsigned *n, char *err, size_t errlen);
/* Whether cell belongs to shard K of N (round robin over the canonical cell order, so the
 * shards partition the cells and each gets a mix of the matrix). */
static inline int ps_shard_has(size_t cell, unsigned k, unsigned n)
{
  return n <= 1 || cell % n == (size_t)(k - 1);
}

/* One planned run: which cell, which repeat index within the cell, warm-up or timed. */
struct ps_slot {
  size_t cell;
  unsigned index;
  int warmup;
};
/* The schedule: rounds 0 .. warmup+runs-1; in each round every cell of cells[] once, in an
 * order shuffled with a generator seeded from (seed, round). Slot index = round; rounds below
 * `warmup` are warm-ups. Returns the count and a malloc'd array in *out. Deterministic. */
size_t ps_sweep_schedule(const size_t *cells, size_t ncells, unsigned warmup, unsigned runs,
                         uint64_t seed, struct ps_slot **out);
/* The order of one extra round (for --min-time), same shuffling rule. Fills order[ncells]. */
void ps_sweep_round_order(const size_t *cells, size_t ncells, unsigned round, uint64_t seed,
                          size_t *order);

#endif
