/* dsn.h - masking the password out of PostgreSQL connection strings (URI user:PASS@,
 * ?password=, keyword password=, quoted or not) before anything shows them.
 */
#ifndef PERFSWEEP_DSN_H
#define PERFSWEEP_DSN_H

/* A malloc'd copy of spec with every password replaced by "***"; anything that is not a DSN is
 * returned unchanged. Never NULL (dies on exhaustion like ps_xmalloc). Caller frees. */
char *ps_dsn_mask(const char *spec);

#endif
