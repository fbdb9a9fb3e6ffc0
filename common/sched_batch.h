/*
 * sched_batch: puts the calling thread in Linux's SCHED_BATCH class.
 *
 * taskd hands writes between its HTTP threads and its writer thread. Under the default policy a
 * thread that is woken preempts the one running, so on one core every hand-off became a context
 * switch: the writer was preempted once per connection it resumed, and woken once per write.
 * A SCHED_BATCH thread that is woken waits for the running one to block or use up its slice,
 * so hand-offs are batched instead. Needs no privilege; failure changes nothing but speed.
 */
#ifndef TASKBENCH_SCHED_BATCH_H
#define TASKBENCH_SCHED_BATCH_H

/* Returns 0, or -1 when the policy could not be set (the thread keeps its own). */
int sched_batch_self(void);

#endif
