/* junit.c - writes a comparison and budget alerts as JUnit XML (the subset GitHub, GitLab and
 * Jenkins read): a regressed cell is a <failure>, an inconclusive one carries <system-out>.
 */
#include <errno.h>
#include <math.h>

#include "junit.h"

void junit_escape(FILE *out, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&apos;", out); break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
        fputc(*s, out);
    }
  }
}

static void junit_case_cell(FILE *out, const struct compare_cell *c)
{
  fputs("    <testcase classname=\"perfsweep.compare\" name=\"", out);
  junit_escape(out, c->id);
  fputs("\">\n", out);
  if (c->verdict == CMP_REGRESSED) {
    fputs("      <failure type=\"regression\" message=\"", out);
    for (size_t k = 0, first = 1; k < c->nmetrics; k++)
      if (c->metrics[k].verdict == CMP_REGRESSED) {
        fprintf(out, "%s%s ", first ? "" : "; ", c->metrics[k].metric);
        junit_escape(out, c->metrics[k].reason);
        first = 0;
      }
    fputs("\">", out);
    for (size_t k = 0; k < c->nfunctions; k++) {
      fprintf(out, "self share grew: ");
      junit_escape(out, c->functions[k].name);
      fprintf(out, " %.1f%% -&gt; %.1f%%\n", 100 * c->functions[k].base, 100 * c->functions[k].now);
    }
    for (size_t k = 0; k < c->nsites; k++) {
      fprintf(out, "allocation site grew: ");
      junit_escape(out, c->sites[k].name);
      fprintf(out, " %.0f -&gt; %.0f bytes\n", c->sites[k].base, c->sites[k].now);
    }
    fputs("</failure>\n", out);
  }
  fputs("      <system-out>", out);
  for (size_t k = 0; k < c->nmetrics; k++) {
    fprintf(out, "%s: %s: ", c->metrics[k].metric, compare_verdict_name(c->metrics[k].verdict));
    junit_escape(out, c->metrics[k].reason);
    fputc('\n', out);
  }
  fputs("</system-out>\n    </testcase>\n", out);
}

int junit_write(FILE *out, const struct compare_report *r, const struct budget_alert *alerts,
                size_t nalerts)
{
  size_t tests = (r ? r->ncells : 0) + nalerts + (nalerts == 0);
  size_t failures = (r ? r->counts[CMP_REGRESSED] : 0) + nalerts;
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
  fprintf(out, "<testsuites tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
  if (r) {
    fprintf(out, "  <testsuite name=\"perfsweep compare\" tests=\"%zu\" failures=\"%zu\" "
                 "skipped=\"0\">\n", r->ncells, r->counts[CMP_REGRESSED]);
    for (size_t i = 0; i < r->ncells; i++)
      junit_case_cell(out, &r->cells[i]);
    fputs("  </testsuite>\n", out);
  }
  fprintf(out, "  <testsuite name=\"perfsweep budget\" tests=\"%zu\" failures=\"%zu\">\n",
          nalerts ? nalerts : 1, nalerts);
  if (!nalerts)
    fputs("    <testcase classname=\"perfsweep.budget\" name=\"all limits held\"/>\n", out);
  for (size_t i = 0; i < nalerts; i++) {
    fputs("    <testcase classname=\"perfsweep.budget\" name=\"", out);
    junit_escape(out, alerts[i].cell);
    fputc(' ', out);
    junit_escape(out, alerts[i].metric);
    fputs("\">\n      <failure type=\"budget\" message=\"", out);
    junit_escape(out, alerts[i].line);
    fputs("\"/>\n    </testcase>\n", out);
  }
  fputs("  </testsuite>\n</testsuites>\n", out);
  return ferror(out) ? -EIO : 0;
}
