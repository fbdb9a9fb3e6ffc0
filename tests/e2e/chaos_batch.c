/*
 * chaos_batch: see chaos_batch.h. chaos runs as a child of the test (taskd_proc's spawn), its
 * output in files beside its work directory; the batch reaps whichever ends first and starts
 * the next, on one deadline for all.
 */
#include "chaos_batch.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fixture.h"
#include "scratch.h"
#include "taskd_proc.h"

#define MAX_PARALLEL 8

void chaos_batch_journal_path(const struct chaos_run *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s/journal.json", r->dir);
}

const char *chaos_batch_output(const struct chaos_run *r)
{
    char path[600];
    snprintf(path, sizeof(path), "%s.out", r->dir);
    char *text = scratch_keep(taskd_proc_read_file(path, NULL), scratch_free);
    return text ? text : "";
}

static pid_t launch(struct chaos_run *r, size_t i, const char *work)
{
    snprintf(r->dir, sizeof(r->dir), "%s/run-%zu", work, i);
    char journal[600], out[600], err[600];
    chaos_batch_journal_path(r, journal, sizeof(journal));
    snprintf(out, sizeof(out), "%s.out", r->dir);
    snprintf(err, sizeof(err), "%s.err", r->dir);
    const char *args[CHAOS_BATCH_MAX_ARGS + 8] = {"run"};
    size_t n = 1;
    for (size_t k = 0; r->args[k] && n < CHAOS_BATCH_MAX_ARGS; k++)
        args[n++] = r->args[k];
    args[n++] = "--work-dir";
    args[n++] = r->dir;
    args[n++] = "--journal";
    args[n++] = journal;
    args[n++] = "-q";
    args[n] = NULL;
    return taskd_proc_spawn_program(taskd_proc_tool_bin("chaos"), args, out, err);
}

void chaos_batch_run(struct chaos_run *runs, size_t n, size_t parallel, const char *work,
                     unsigned timeout_ms)
{
    pid_t running[MAX_PARALLEL] = {0};
    size_t index[MAX_PARALLEL] = {0};
    if (parallel > MAX_PARALLEL)
        parallel = MAX_PARALLEL;
    uint64_t deadline = clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
    size_t next = 0, busy = 0;
    for (size_t i = 0; i < n; i++)
        runs[i].exit_status = -1;
    while (next < n || busy > 0) {
        while (busy < parallel && next < n) {
            if (runs[next].skip) {
                next++;
                continue;
            }
            size_t slot = 0;
            while (running[slot] > 0)
                slot++;
            running[slot] = launch(&runs[next], next, work);
            index[slot] = next;
            runs[next].ran = running[slot] > 0;
            busy += runs[next].ran;
            next++;
        }
        if (busy == 0)
            break;
        int reaped = 0;
        for (size_t k = 0; k < parallel; k++) {
            int status;
            if (running[k] > 0 && waitpid(running[k], &status, WNOHANG) == running[k]) {
                runs[index[k]].exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                running[k] = 0;
                busy--;
                reaped = 1;
            }
        }
        if (!reaped && clock_monotonic_ns() > deadline) { /* a hung chaos: kill them all */
            for (size_t k = 0; k < parallel; k++) {
                if (running[k] > 0) {
                    kill(running[k], SIGKILL);
                    waitpid(running[k], NULL, 0);
                    running[k] = 0;
                }
            }
            return;
        }
        if (!reaped)
            fx_sleep_ms(20);
    }
}
