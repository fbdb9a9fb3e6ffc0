/*
 * process_metrics: the standard process_* metrics of Prometheus client libraries, from /proc.
 *
 * process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds and process_start_time_seconds, with the names and meaning
 * the Go and Python clients give them, so stock dashboards work. Read at scrape time.
 */
#ifndef TASKBENCH_PROCESS_METRICS_H
#define TASKBENCH_PROCESS_METRICS_H

#include "buf.h"

/* Appends the families to `out`. A value that cannot be read is left out, never invented. */
void process_metrics_write(struct buf *out);

#endif
