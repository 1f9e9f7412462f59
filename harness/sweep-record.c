/* sweep-record.c - a run's record: its figures for the statistics and its JSON text, written by
 * hand (sweep-json.c primitives) in the key order the results schema documents. Building a
 * jansson object per run and dumping it twice was most of perfsweep's own CPU per run of a
 * short command.
 */
#include "sweep-record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sweep-json.h"
#include "util.h"

/* A copy of s that is valid UTF-8: each byte that does not start a well-formed sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) becomes '?'. A run's
 * error carries the tail of its stderr, which may be binary or cut inside a character, and one
 * invalid byte would make the journal line and results.json unreadable JSON. */
char *ps_utf8_clean(const char *s)
{
  size_t n = strlen(s);
  char *o = ps_xmalloc(n + 1);
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, w = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    int ok = len && i + len <= n;
    for (size_t k = 1; ok && k < len; k++)
      ok = (p[i + k] & 0xC0) == 0x80;
    if (ok && len > 1) {
      unsigned long cp = c & (0x7Fu >> len);
      for (size_t k = 1; k < len; k++)
        cp = (cp << 6) | (p[i + k] & 0x3F);
      static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      o[w++] = '?';
      i++;
      continue;
    }
    memcpy(o + w, s + i, len);
    w += len;
    i += len;
  }
  o[w] = '\0';
  return o;
}

/* status into rec->status ("?" when it does not fit; snprintf cost more than the rest of a
 * record's figures) */
static void set_status(struct ps_run_rec *rec, const char *status)
{
  size_t n = status ? strlen(status) : 0;
  if (!status || n >= sizeof rec->status)
    memcpy(rec->status, "?", 2);
  else
    memcpy(rec->status, status, n + 1);
}

static void key(struct ps_jbuf *b, const char *k)
{
  ps_jbuf_puts(b, k); /* the keys here need no escaping: written with their quotes and colon */
}

void ps_run_rec_make(struct ps_run_rec *rec, const struct ps_launch_result *r, unsigned index,
                     int warmup, const char *status, const char *error, json_t *stages,
                     long long records, int skipped)
{
  memset(rec, 0, sizeof *rec);
  rec->index = index;
  rec->warmup = warmup;
  rec->ok = !strcmp(status, "ok");
  set_status(rec, status);
  double throughput = records >= 0 && r->wall > 0 ? (double)records / r->wall : NAN;
  double v[PS_REC_NV] = {r->wall, r->user, r->sys, r->cpu, (double)r->max_rss_kb,
                         isfinite(r->avg_rss_kb) ? r->avg_rss_kb : NAN,
                         isfinite(r->avg_cpu_pct) ? r->avg_cpu_pct : NAN, throughput};
  memcpy(rec->v, v, sizeof v);
  rec->error = error ? ps_utf8_clean(error) : NULL;
  error = rec->error;

  struct ps_jbuf b = {ps_xmalloc(768), 0, 768}; /* a run object's size: grown at most once */
  b.p[0] = '\0';
  key(&b, "{\"index\":");
  ps_jbuf_int(&b, index);
  key(&b, warmup ? ",\"warmup\":true,\"status\":" : ",\"warmup\":false,\"status\":");
  ps_jbuf_string(&b, status, strlen(status));
  key(&b, ",\"exit_code\":");
  if (r->started && !r->signal)
    ps_jbuf_int(&b, r->exit_code);
  else
    key(&b, "null");
  key(&b, ",\"signal\":");
  if (r->signal)
    ps_jbuf_int(&b, r->signal);
  else
    key(&b, "null");
  key(&b, r->timed_out ? ",\"timed_out\":true,\"error\":" : ",\"timed_out\":false,\"error\":");
  if (error)
    ps_jbuf_string(&b, error, strlen(error));
  else
    key(&b, "null");
  key(&b, ",\"wall\":");
  ps_jbuf_num(&b, r->wall);
  key(&b, ",\"user\":");
  ps_jbuf_num(&b, r->user);
  key(&b, ",\"sys\":");
  ps_jbuf_num(&b, r->sys);
  key(&b, ",\"cpu\":");
  ps_jbuf_num(&b, r->cpu);
  key(&b, ",\"max_rss_kb\":");
  ps_jbuf_int(&b, r->max_rss_kb);
  key(&b, r->max_rss_exact ? ",\"max_rss_exact\":true,\"minor_faults\":"
                           : ",\"max_rss_exact\":false,\"minor_faults\":");
  ps_jbuf_int(&b, r->minor_faults);
  key(&b, ",\"major_faults\":");
  ps_jbuf_int(&b, r->major_faults);
  key(&b, ",\"voluntary_cs\":");
  ps_jbuf_int(&b, r->voluntary_cs);
  key(&b, ",\"involuntary_cs\":");
  ps_jbuf_int(&b, r->involuntary_cs);
  key(&b, ",\"mem\":{\"avg_rss_kb\":");
  ps_jbuf_num(&b, r->avg_rss_kb);
  key(&b, ",\"peak_rss_kb\":");
  ps_jbuf_num(&b, r->peak_rss_kb);
  key(&b, ",\"growth_kb_per_s\":");
  ps_jbuf_num(&b, r->growth_kb_per_s);
  key(&b, "},\"cpu_pct\":{\"avg\":");
  ps_jbuf_num(&b, r->avg_cpu_pct);
  key(&b, ",\"peak\":");
  ps_jbuf_num(&b, r->peak_cpu_pct);
  key(&b, ",\"cores_used\":");
  ps_jbuf_num(&b, r->cores_used);
  key(&b, "},\"samples\":");
  ps_jbuf_int(&b, (long long)r->samples);
  key(&b, ",\"records\":");
  if (records >= 0)
    ps_jbuf_int(&b, records);
  else
    key(&b, "null");
  key(&b, ",\"throughput\":");
  ps_jbuf_num(&b, throughput);
  key(&b, ",\"stages\":");
  if (stages)
    ps_jbuf_dump(&b, stages, 0);
  else
    key(&b, "[]");
  if (skipped) {
    key(&b, ",\"metrics_lines_skipped\":");
    ps_jbuf_int(&b, skipped);
  }
  key(&b, "}");
  rec->text = b.p;
  rec->len = b.len;
  if (stages && json_array_size(stages))
    rec->stages = stages;
  else
    json_decref(stages);
}

static double num_or_nan(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

int ps_run_rec_from_json(struct ps_run_rec *rec, const json_t *run, int with_text)
{
  memset(rec, 0, sizeof *rec);
  rec->index = -1;
  for (size_t k = 0; k < PS_REC_NV; k++)
    rec->v[k] = NAN;
  if (!json_is_object(run))
    return -1;
  json_t *idx = json_object_get(run, "index");
  rec->index = json_is_integer(idx) ? json_integer_value(idx) : -1;
  rec->warmup = json_is_true(json_object_get(run, "warmup"));
  const char *status = json_string_value(json_object_get(run, "status"));
  rec->ok = status && !strcmp(status, "ok");
  set_status(rec, status);
  const char *keys[] = {"wall", "user", "sys", "cpu", "max_rss_kb"};
  for (size_t k = 0; k < PS_ARRAY_SIZE(keys); k++)
    rec->v[k] = num_or_nan(json_object_get(run, keys[k]));
  rec->v[PS_REC_AVG_RSS] = num_or_nan(json_object_get(json_object_get(run, "mem"), "avg_rss_kb"));
  rec->v[PS_REC_CPU_PCT] = num_or_nan(json_object_get(json_object_get(run, "cpu_pct"), "avg"));
  rec->v[PS_REC_THROUGHPUT] = num_or_nan(json_object_get(run, "throughput"));
  json_t *stages = json_object_get(run, "stages");
  if (json_array_size(stages))
    rec->stages = json_incref(stages);
  const char *err = json_string_value(json_object_get(run, "error"));
  rec->error = err ? ps_xstrdup(err) : NULL;
  if (with_text) {
    struct ps_jbuf b = {0};
    ps_jbuf_dump(&b, run, 0);
    rec->text = b.p;
    rec->len = b.len;
  }
  return 0;
}

void ps_run_rec_release(struct ps_run_rec *rec)
{
  if (!rec)
    return;
  json_decref(rec->stages);
  free(rec->error);
  free(rec->text);
  memset(rec, 0, sizeof *rec);
}
