/*
 * version: the taskbench version every binary reports (--version, build_info metrics).
 * The Makefile passes the git description as TASKBENCH_VERSION when it can.
 */
#ifndef TASKBENCH_VERSION_H
#define TASKBENCH_VERSION_H

#ifndef TASKBENCH_VERSION
#define TASKBENCH_VERSION "0.1.0"
#endif

#endif
