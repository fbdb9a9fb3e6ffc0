/*
 * scratch: allocations that live until the end of the current test.
 *
 * cmocka leaves a failing test with a longjmp, so anything the test would have freed after the
 * failed assertion leaks, and LeakSanitizer turns that into noise that hides the real failure.
 * Tests hand what they allocate to scratch_keep(); the fixture's teardown (which cmocka runs
 * after a failure too) releases everything with scratch_release_all().
 */
#ifndef E2E_SCRATCH_H
#define E2E_SCRATCH_H

typedef void (*scratch_release_fn)(void *ptr);

/* Registers `ptr` to be released with `release` at the end of the test. Returns `ptr` (NULL is
 * returned as is and not registered). Aborts the process when out of memory. */
void *scratch_keep(void *ptr, scratch_release_fn release);

/* Releases `ptr` now (it must have been kept) and forgets it. Accepts NULL. */
void scratch_drop(void *ptr);

/* Releases everything kept, newest first. */
void scratch_release_all(void);

/* scratch_release_fn adapters for free() and cJSON_Delete(). */
void scratch_free(void *ptr);
void scratch_json_delete(void *ptr);

#endif
