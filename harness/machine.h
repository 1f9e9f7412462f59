/* machine.h - the machine metadata attached to every results file: CPU model, cores, memory,
 * kernel, governor, load, compiler, perfsweep version, git commit of the working folder.
 */
#ifndef PERFSWEEP_MACHINE_H
#define PERFSWEEP_MACHINE_H

#include <jansson.h>

/* Collects what is readable; an unreadable item is null, never an error. New reference. */
json_t *ps_machine_info(void);

#endif
