/*
 * control: the command socket (see control.h). One connection at a time is plenty: the callers
 * are a test harness and chaos, each sending a command and waiting for its answer. The thread
 * polls with a short timeout so that control_stop() ends it without signals.
 */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 256
#define POLL_MS 100

struct control {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    control_handler handle;
    void *ctx;
    pthread_t thread;
    atomic_int stopping;
};

static int make_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path))
        return -1;
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Reads one line (up to cap-1 bytes, newline cut) within timeout_ms. Returns 0 or -1. */
static int read_line(int fd, char *out, size_t cap, int timeout_ms)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) != 1)
            return -1;
        ssize_t got = read(fd, out + n, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return n ? 0 : -1;
        if (out[n] == '\n')
            break;
        n++;
    }
    out[n] = '\0';
    return 0;
}

static void serve_one(struct control *c, int conn)
{
    char cmd[LINE_MAX_LEN], answer[LINE_MAX_LEN + 2];
    if (read_line(conn, cmd, sizeof(cmd), 2000) == 0) {
        c->handle(cmd, answer, LINE_MAX_LEN, c->ctx);
        size_t len = strlen(answer);
        answer[len++] = '\n';
        ssize_t w = write(conn, answer, len);
        (void)w;
    }
    close(conn);
}

static void *serve(void *arg)
{
    struct control *c = arg;
    while (!atomic_load(&c->stopping)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, POLL_MS) != 1)
            continue;
        int conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn >= 0)
            serve_one(c, conn);
    }
    return NULL;
}

int control_start(struct control **out, const char *path, control_handler handle, void *ctx,
                  char *err, size_t errlen)
{
    struct sockaddr_un a;
    *out = NULL;
    if (make_addr(path, &a) < 0) {
        snprintf(err, errlen, "the control socket path %s is too long (at most %zu bytes)", path,
                 sizeof(a.sun_path) - 1);
        return -1;
    }
    struct control *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->handle = handle;
    c->ctx = ctx;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(c->fd, 4) < 0) {
        snprintf(err, errlen, "cannot listen on the control socket %s: %s", path, strerror(errno));
        goto fail;
    }
    if (pthread_create(&c->thread, NULL, serve, c) != 0) {
        snprintf(err, errlen, "cannot start the control thread");
        unlink(path);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return -1;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, 1);
    pthread_join(c->thread, NULL);
    close(c->fd);
    unlink(c->path);
    free(c);
}

int control_request(const char *path, const char *cmd, int timeout_ms, char *out, size_t cap)
{
    struct sockaddr_un a;
    if (make_addr(path, &a) < 0) {
        snprintf(out, cap, "the control socket path %s is too long", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        snprintf(out, cap, "cannot reach lossyfs at %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char line[LINE_MAX_LEN + 2];
    int len = snprintf(line, sizeof(line), "%s\n", cmd);
    int rc = -1;
    if (len <= 0 || (size_t)len >= sizeof(line) || write(fd, line, (size_t)len) != len) {
        snprintf(out, cap, "cannot send '%s' to lossyfs at %s", cmd, path);
        goto out;
    }
    if (read_line(fd, out, cap, timeout_ms) < 0) {
        snprintf(out, cap, "lossyfs at %s did not answer '%s' within %d ms", path, cmd, timeout_ms);
        goto out;
    }
    rc = strncmp(out, "ok", 2) == 0 ? 0 : 1;
out:
    close(fd);
    return rc;
}
