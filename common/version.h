/*
 * version: the taskbench version every binary reports (--version, the build_info metrics).
 * It is compiled into one object, version.o, which the Makefile rebuilds whenever the git
 * description changes, so every part of a binary reports the same version.
 */
#ifndef TASKBENCH_VERSION_H
#define TASKBENCH_VERSION_H

/* "0.1.0-12-gabcdef0", or "0.1.0" outside a git checkout. */
const char *taskbench_version(void);

#endif
