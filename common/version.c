/*
 * version: see version.h. TASKBENCH_VERSION comes from the Makefile (git describe).
 */
#include "version.h"

#ifndef TASKBENCH_VERSION
#define TASKBENCH_VERSION "0.1.0"
#endif

const char *taskbench_version(void)
{
    return TASKBENCH_VERSION;
}
