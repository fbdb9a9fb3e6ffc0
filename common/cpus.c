/* cpus: the affinity-mask CPU count (see cpus.h); falls back to the online count, then 1. */
#include "cpus.h"

#include <sched.h>
#include <unistd.h>

unsigned cpus_usable(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}
