/* junit.h - JUnit XML for CI systems: one testsuite per comparison, one testcase per compared
 * cell (a regressed cell is a failure), one per budget rule breach.
 */
#ifndef PERFSWEEP_JUNIT_H
#define PERFSWEEP_JUNIT_H

#include <stdio.h>

#include "budget.h"
#include "compare.h"

/* Writes the XML; r may be NULL (budget only). Returns 0, or -EIO when the stream failed. */
int junit_write(FILE *out, const struct compare_report *r, const struct budget_alert *alerts,
                size_t nalerts);

/* Writes s with XML escaping (&, <, >, ", ' and control characters dropped). */
void junit_escape(FILE *out, const char *s);

#endif
