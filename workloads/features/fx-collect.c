/* fx-collect.c - the collect stage for JSON-lines input (see fx-collect.h). Files are read
 * with read(2) in large chunks; nothing is parsed here.
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

static int read_into(const char *path, struct fx_buf *b)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return -EISDIR;
  }
  if (st.st_size > 0)
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

int fx_collect_dir(const char *dir, struct fx_raw *raw, char *err, size_t errlen)
{
  struct stat st;
  snprintf(raw->origin, sizeof raw->origin, "%s", dir);
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a folder (%s); pass --source jsonl:DIR with a folder "
             "written by perfsweep-features generate --out DIR", dir,
             errno ? strerror(errno) : "not a directory");
    return PS_EXIT_USAGE;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, FX_MANIFEST_FILE);
  int rc = read_into(path, &raw->manifest);
  if (rc == -ENOENT) {
    snprintf(err, errlen, "%s: no dataset in this folder (%s is missing); create one with "
             "perfsweep-features generate --scale tiny --out %s", dir, FX_MANIFEST_FILE, dir);
    return PS_EXIT_USAGE;
  }
  for (int t = -1; t < FX_RAW_COUNT; t++) {
    if (t >= 0) {
      snprintf(path, sizeof path, "%s/%s.jsonl", dir, fx_raw_names[t]);
      rc = read_into(path, &raw->table[t]);
    }
    if (rc != 0) {
      snprintf(err, errlen, "%s: cannot read (%s); regenerate the dataset with "
               "perfsweep-features generate --out %s", path, strerror(-rc), dir);
      return PS_EXIT_USAGE;
    }
  }
  return 0;
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
