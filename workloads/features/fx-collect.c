/* fx-collect.c - the collect stage for JSON-lines input (see fx-collect.h). A folder is
 * streamed: each table file is read in pages of B records through one reusable buffer
 * (fx-pager.c) and each page handed to normalize; nothing is parsed here.
 */
#include "fx-collect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit-codes.h"
#include "fx-normalize.h"
#include "fx-pager.h"

/* Opens path for reading; refuses a folder. Returns the descriptor, or -errno. */
static int open_file(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return -EISDIR;
  }
  return fd;
}

/* Appends the whole of fd to b (and closes fd). Returns 0, or -errno. */
static int read_all(int fd, struct fx_buf *b)
{
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0)
    fx_buf_reserve(b, (size_t)st.st_size + 1);
  for (;;) {
    fx_buf_reserve(b, 1 << 20);
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0)
      break;
    b->len += (size_t)n;
  }
  close(fd);
  return 0;
}

static int read_into(const char *path, struct fx_buf *b)
{
  int fd = open_file(path);
  return fd < 0 ? fd : read_all(fd, b);
}

static int cannot_read(const char *path, int e, const char *dir, char *err, size_t errlen)
{
  snprintf(err, errlen, "%s: cannot read (%s); regenerate the dataset with "
           "perfsweep-features generate --out %s", path, strerror(e), dir);
  return PS_EXIT_USAGE;
}

/* Checks that dir is a dataset folder, reads its manifest into manifest and opens every
 * table file (fd[t], -1 on failure). Returns 0, or PS_EXIT_USAGE with a sentence in err. */
static int open_dataset(const char *dir, struct fx_buf *manifest, int fd[FX_RAW_COUNT],
                        int open_tables, char *err, size_t errlen)
{
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a folder (%s); pass --source jsonl:DIR with a folder "
             "written by perfsweep-features generate --out DIR", dir,
             errno ? strerror(errno) : "not a directory");
    return PS_EXIT_USAGE;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, FX_MANIFEST_FILE);
  int rc = read_into(path, manifest);
  if (rc == -ENOENT) {
    snprintf(err, errlen, "%s: no dataset in this folder (%s is missing); create one with "
             "perfsweep-features generate --scale tiny --out %s", dir, FX_MANIFEST_FILE, dir);
    return PS_EXIT_USAGE;
  }
  if (rc != 0)
    return cannot_read(path, -rc, dir, err, errlen);
  for (int t = 0; t < FX_RAW_COUNT && open_tables; t++) {
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, fx_raw_names[t]);
    if ((fd[t] = open_file(path)) < 0)
      return cannot_read(path, -fd[t], dir, err, errlen);
  }
  return 0;
}

int fx_collect_dir(const char *dir, struct fx_raw *raw, char *err, size_t errlen)
{
  int fd[FX_RAW_COUNT];
  snprintf(raw->origin, sizeof raw->origin, "%s", dir);
  int rc = open_dataset(dir, &raw->manifest, fd, 0, err, errlen);
  for (int t = 0; t < FX_RAW_COUNT && rc == 0; t++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, fx_raw_names[t]);
    int e = read_into(path, &raw->table[t]);
    if (e != 0)
      rc = cannot_read(path, -e, dir, err, errlen);
  }
  return rc;
}

int fx_collect_open(const char *dir, struct fx_collect_input *in, char *err, size_t errlen)
{
  memset(in, 0, sizeof *in);
  snprintf(in->origin, sizeof in->origin, "%s", dir);
  for (int t = 0; t < FX_RAW_COUNT; t++)
    in->fd[t] = -1;
  return open_dataset(dir, &in->manifest, in->fd, 1, err, errlen);
}

void fx_collect_close(struct fx_collect_input *in)
{
  for (int t = 0; t < FX_RAW_COUNT; t++)
    if (in->fd[t] >= 0)
      close(in->fd[t]);
  fx_buf_free(&in->manifest);
  fx_pager_free(&in->pager);
}

int fx_collect_next(struct fx_collect_input *in, int t, size_t batch_size, struct fx_page *page,
                    char *err, size_t errlen)
{
  if (in->started != t + 1) {
    fx_pager_start(&in->pager, in->fd[t]);
    in->started = t + 1;
  }
  int r = fx_pager_next(&in->pager, batch_size, page);
  if (r < 0) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.jsonl", in->origin, fx_raw_names[t]);
    return -cannot_read(path, -r, in->origin, err, errlen);
  }
  if (r > 0) {
    in->pages++;
    in->records += page->records;
  }
  return r;
}

int fx_collect_stream(const char *dir, const struct fx_source_params *p, struct fx_dataset *ds,
                      struct fx_stage *collect, struct fx_stage *normalize, char *err,
                      size_t errlen)
{
  double t0 = fx_now(), c0 = fx_cpu_now();
  struct fx_collect_input in;
  struct fx_norm *nm = NULL;
  int rc = fx_collect_open(dir, &in, err, errlen);
  double open_s = fx_now() - t0, open_c = fx_cpu_now() - c0;
  if (rc == 0)
    rc = fx_norm_begin(&nm, ds, dir, in.manifest.data, in.manifest.len, err, errlen);
  for (int t = 0; t < FX_RAW_COUNT && rc == 0; t++) {
    struct fx_page page;
    int r = 0;
    while (rc == 0 && (r = fx_collect_next(&in, t, p->batch_size, &page, err, errlen)) > 0)
      rc = fx_norm_page(nm, t, page.text, page.len, err, errlen);
    if (rc == 0 && r < 0)
      rc = -r;
  }
  fx_norm_end(nm);
  /* the stages interleave page by page: collect is the reading (opening the files, read(2),
   * cutting pages), normalize the rest of the loop (parsing the pages) */
  collect->seconds = open_s + in.pager.read_seconds;
  collect->cpu_seconds = open_c + in.pager.read_cpu_seconds;
  collect->records_in = collect->records_out = in.records;
  collect->batches = in.pages;
  collect->workers = 1;
  collect->read_buffer_bytes = in.pager.peak_bytes;
  collect->peak_rss_kb = fx_peak_rss_kb();
  normalize->seconds = fx_now() - t0 - collect->seconds;
  normalize->cpu_seconds = fx_cpu_now() - c0 - collect->cpu_seconds;
  if (normalize->cpu_seconds < 0)
    normalize->cpu_seconds = 0;
  normalize->records_in = ds->records_in;
  normalize->errors = ds->rejects;
  normalize->records_out = ds->records_in - fx_rejects_total(&ds->rejects);
  normalize->batches = in.pages;
  normalize->workers = 1;
  normalize->freshness_seconds = ds->newest ? ds->reference_time - ds->newest : -1;
  normalize->peak_rss_kb = collect->peak_rss_kb;
  fx_collect_close(&in);
  return rc;
}

void fx_collect_count(const struct fx_raw *raw, size_t batch_size, struct fx_stage *collect)
{
  uint64_t records = 0, pages = 0;
  for (int t = 0; t < FX_RAW_COUNT; t++) {
    const char *p = raw->table[t].data, *end = p + raw->table[t].len;
    uint64_t n = 0;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *e = nl ? nl : end;
      n += e > p; /* blank lines are not records */
      p = e + 1;
    }
    records += n;
    pages += (n + batch_size - 1) / batch_size;
  }
  collect->records_in = collect->records_out = records;
  collect->batches = pages;
  collect->workers = 1;
}

int fx_collect_normalize(struct fx_raw *raw, const struct fx_source_params *p,
                         struct fx_dataset *ds, struct fx_stage *normalize, char *err,
                         size_t errlen)
{
  double t0 = fx_now(), c0 = fx_cpu_now();
  int rc = fx_normalize_release(raw, ds, err, errlen);
  normalize->seconds = fx_now() - t0;
  normalize->cpu_seconds = fx_cpu_now() - c0;
  normalize->records_in = ds->records_in;
  normalize->errors = ds->rejects;
  normalize->records_out = ds->records_in - fx_rejects_total(&ds->rejects);
  normalize->batches = (ds->records_in + p->batch_size - 1) / p->batch_size;
  normalize->workers = 1;
  normalize->freshness_seconds = ds->newest ? ds->reference_time - ds->newest : -1;
  return rc;
}
