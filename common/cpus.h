/*
 * cpus: how many CPUs this process may run on (its affinity mask, so `taskset -c 1` counts as
 * one), the default for every "threads" setting in taskbench.
 */
#ifndef TASKBENCH_CPUS_H
#define TASKBENCH_CPUS_H

/* At least 1. */
unsigned cpus_usable(void);

#endif
