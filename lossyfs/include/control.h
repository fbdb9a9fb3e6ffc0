/*
 * control: lossyfs's command socket. A Unix stream socket takes one command per line and
 * answers one line: "drop" (the power cut: forget every unsynced write), "flush" (sync every
 * file), "stat" (what is unsynced now), "ping". Answers start with "ok " or "error ".
 *
 * The server runs on its own thread and calls `handle` with the command; the client side is
 * the one call a tool needs (chaos, the tests, `lossyfs ctl`).
 */
#ifndef LOSSYFS_CONTROL_H
#define LOSSYFS_CONTROL_H

#include <stddef.h>

/* Writes the answer to `cmd` (one line, no newline) into out. */
typedef void (*control_handler)(const char *cmd, char *out, size_t cap, void *ctx);

struct control;

/* Listens on `path` (an existing socket file there is replaced) and serves commands on a
 * thread of its own. Returns 0, or -1 with a sentence in err. */
int control_start(struct control **out, const char *path, control_handler handle, void *ctx,
                  char *err, size_t errlen);

/* Stops the thread and removes the socket file. NULL is accepted. */
void control_stop(struct control *c);

/* Sends `cmd` to the socket at `path` and reads the one-line answer into out (newline cut),
 * waiting at most timeout_ms. Returns 0 when the answer starts with "ok", 1 when it is an
 * error answer, or -1 with a sentence in out when the socket could not be used. */
int control_request(const char *path, const char *cmd, int timeout_ms, char *out, size_t cap);

#endif
