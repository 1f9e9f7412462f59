/* export-folded.c - folded stacks ("main;parse;lex 42"), the input of FlameGraph, of our own
 * flame graph writer and of speedscope/inferno; stacks of all threads merged and sorted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export-formats.h"
#include "export-write.h"
#include "util.h"

struct fold_line {
  char *text;
  uint64_t weight;
};

static int fold_cmp(const void *a, const void *b)
{
  return strcmp(((const struct fold_line *)a)->text, ((const struct fold_line *)b)->text);
}

static char *fold_stack(const struct cpu_profile *p, const struct cpu_stack *s)
{
  size_t len = 0;
  char *buf = NULL;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    ps_die(PS_EXIT_ENVIRONMENT, "out of memory while folding stacks");
  if (s->n == 0)
    fputs("[unknown]", f);
  for (uint32_t i = 0; i < s->n; i++) {
    if (i)
      fputc(';', f);
    for (const char *c = p->frames[s->frames[i]].function; *c; c++)
      fputc(*c == ';' ? ':' : (*c == '\n' ? ' ' : *c), f);
  }
  fclose(f);
  return buf;
}

int export_folded_write(const struct cpu_profile *p, const char *path)
{
  struct fold_line *lines = ps_xcalloc(p->nstacks ? p->nstacks : 1, sizeof *lines);
  for (size_t i = 0; i < p->nstacks; i++) {
    lines[i].text = fold_stack(p, &p->stacks[i]);
    lines[i].weight = p->stacks[i].weight;
  }
  qsort(lines, p->nstacks, sizeof *lines, fold_cmp);
  size_t len = 0;
  char *buf = NULL;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    ps_die(PS_EXIT_ENVIRONMENT, "out of memory while folding stacks");
  for (size_t i = 0; i < p->nstacks;) {
    size_t j = i;
    uint64_t w = 0;
    while (j < p->nstacks && !strcmp(lines[j].text, lines[i].text))
      w += lines[j++].weight;
    fprintf(f, "%s %llu\n", lines[i].text, (unsigned long long)w);
    i = j;
  }
  fclose(f);
  for (size_t i = 0; i < p->nstacks; i++)
    free(lines[i].text);
  free(lines);
  int r = ps_export_write(path, buf, len);
  free(buf);
  if (r < 0)
    ps_error("cannot write folded stacks '%s': %s", path, strerror(-r));
  return r;
}
