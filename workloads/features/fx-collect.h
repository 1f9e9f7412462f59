/* fx-collect.h - the collect stage for JSON-lines input: stream the raw tables of a folder in
 * pages of B records, handing each page to normalize (jsonl source, parse-only), or count the
 * pages of the generator's buffers (gen source). Also reads a folder whole, for tests.
 */
#ifndef PERFSWEEP_FX_COLLECT_H
#define PERFSWEEP_FX_COLLECT_H

#include <stddef.h>

#include "fx-metrics.h"
#include "fx-pager.h"
#include "fx-raw.h"
#include "fx-source.h"

/* A dataset folder opened for streaming: the manifest read, every table file open. */
struct fx_collect_input {
  char origin[512];           /* the folder, for messages */
  struct fx_buf manifest;     /* DIR/dataset.json */
  int fd[FX_RAW_COUNT];
  struct fx_pager pager;      /* one read buffer for all tables */
  int started;                /* 1 + the table the pager is on */
  uint64_t pages, records;    /* pages cut and records in them, all tables so far */
};

/* Opens DIR for streaming: checks it is a dataset folder, reads the manifest, opens every
 * table (so a missing file is reported before any work). Returns 0, or PS_EXIT_USAGE with a
 * sentence in err naming the input and the fix; release in with fx_collect_close either way. */
int fx_collect_open(const char *dir, struct fx_collect_input *in, char *err, size_t errlen);

/* The next page of up to batch_size records of table t (tables in fx_raw_table order, each
 * to its end). Returns 1 with *page set (valid until the next call), 0 when table t is done,
 * or -PS_EXIT_USAGE with a sentence in err when the file cannot be read. */
int fx_collect_next(struct fx_collect_input *in, int t, size_t batch_size, struct fx_page *page,
                    char *err, size_t errlen);

/* Closes the files and frees the buffers; accepts an input whose open failed. */
void fx_collect_close(struct fx_collect_input *in);

/* The jsonl source's collect and normalize stages: streams DIR page by page into normalize,
 * so only one page of raw text (plus one read chunk) is held at a time, and fills both
 * stages' metrics (collect: reading and cutting pages, batches = pages read; normalize:
 * parsing them). ds as for fx_norm_begin. Returns 0, or PS_EXIT_USAGE with a sentence in err
 * naming the file (and the line, for unreadable JSON). */
int fx_collect_stream(const char *dir, const struct fx_source_params *p, struct fx_dataset *ds,
                      struct fx_stage *collect, struct fx_stage *normalize, char *err,
                      size_t errlen);

/* Reads DIR/dataset.json and every DIR/<table>.jsonl into raw (zeroed by the caller; free
 * with fx_raw_free). Returns 0, or PS_EXIT_USAGE with a sentence in err when DIR is not a
 * dataset folder or a file cannot be read. */
int fx_collect_dir(const char *dir, struct fx_raw *raw, char *err, size_t errlen);

/* Counts records (non-blank lines) of raw into the collect stage: records_in/out and
 * batches = pages of batch_size. */
void fx_collect_count(const struct fx_raw *raw, size_t batch_size, struct fx_stage *collect);

/* Normalizes raw into ds (releasing raw's table texts as it goes), filling the normalize
 * stage. Returns as fx_normalize. */
int fx_collect_normalize(struct fx_raw *raw, const struct fx_source_params *p,
                         struct fx_dataset *ds, struct fx_stage *normalize, char *err,
                         size_t errlen);

#endif
