/*
 * mhd_hello: the ceiling taskd is measured against. A libmicrohttpd hello-world configured like
 * taskd (internal polling thread + epoll) with one thread that answers every request with a
 * small JSON body and does nothing else: whatever taskd does per request costs the gap
 * between the two. It answers on the second call of the access handler, never the first,
 * because queuing on the first call makes libmicrohttpd 0.9.75 close the connection.
 *
 * Usage: mhd_hello PORT PORT_FILE. PORT 0 picks a free port; the bound port is written to
 * PORT_FILE. Listens on 127.0.0.1 only and runs until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_file.h"

#define HELLO_BODY "{\"hello\":\"world\"}"

/* Any non-NULL value marks "headers seen"; the response goes out on a later call. */
static int seen_marker;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &seen_marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; /* a body is read and ignored */
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(HELLO_BODY) - 1, (void *)HELLO_BODY, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") == MHD_YES)
        rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    *con_cls = NULL; /* the next request on this keep-alive connection starts over */
}

/* Parses a port number in [0, 65535]. Returns 0, or -1 when `s` is not one. */
static int parse_port(const char *s, unsigned short *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *out = (unsigned short)v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned short port;
    if (argc != 3 || parse_port(argv[1], &port) < 0) {
        fprintf(stderr, "usage: mhd_hello PORT PORT_FILE (PORT 0 picks a free one)\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    /* Blocked before the daemon starts, so its threads inherit the mask and sigwait() below
     * is the only receiver. */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A thread pool of one is the internal polling thread itself: 0.9.75 warns that
     * MHD_OPTION_THREAD_POOL_SIZE 1 "is ignored", so the option is left out. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd_hello: cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
        return 1;
    }
    int status = 0;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || port_file_write(argv[2], info->port) < 0) {
        fprintf(stderr, "mhd_hello: cannot write the port to %s: %s\n", argv[2], strerror(errno));
        status = 1;
        goto out;
    }
    int sig;
    sigwait(&stop, &sig);
out:
    MHD_stop_daemon(d);
    return status;
}
