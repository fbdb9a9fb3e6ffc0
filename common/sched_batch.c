/*
 * sched_batch: SCHED_BATCH for the calling thread. See sched_batch.h for why.
 */
#include "sched_batch.h"

#include <pthread.h>
#include <sched.h>

int sched_batch_self(void)
{
    struct sched_param param = {.sched_priority = 0};
    return pthread_setschedparam(pthread_self(), SCHED_BATCH, &param) == 0 ? 0 : -1;
}
