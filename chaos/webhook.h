/*
 * webhook: a tiny Alertmanager webhook receiver (payload version 4), so chaos can timestamp
 * when each notification arrives without any other service.
 *
 * Every POST body is parsed as the webhook JSON; each alert in it becomes one event (receive
 * time, the alert's own status firing|resolved, its alertname, the group's receiver). Events
 * are kept in arrival order up to WEBHOOK_MAX_EVENTS (later ones are counted, not kept). A body
 * that is not the webhook JSON gets 400 (Alertmanager does not retry a 4xx), a body over 1 MiB
 * 413, a method other than POST 405; a webhook 200. Served by common/mini_http.
 */
#ifndef CHAOS_WEBHOOK_H
#define CHAOS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "listen_addr.h"

#define WEBHOOK_MAX_EVENTS 4096

struct webhook_event {
    uint64_t unix_ns; /* when the POST was received */
    char status[16];  /* the alert's status: firing | resolved */
    char alertname[64];
    char receiver[64];
};

struct webhook;

/* Listens on addr (port 0 picks one). Returns 0, or -1 with a sentence in err. */
int webhook_start(struct webhook **out, const struct listen_addr *addr, char *err, size_t errlen);

unsigned webhook_port(const struct webhook *w);

/* Copies events [from, from+max) into out. Returns how many. Thread-safe. */
size_t webhook_events(struct webhook *w, size_t from, struct webhook_event *out, size_t max);

/* POSTs handled (valid or not; not those refused as too large) and events dropped past the
 * cap. */
uint64_t webhook_posts(struct webhook *w);
uint64_t webhook_dropped(struct webhook *w);

/* Parses one webhook body into events stamped `unix_ns`. Returns the number of alerts (events
 * stored, up to max), or -1 with a sentence in err. For the tests and the receiver. */
int webhook_parse(const char *body, size_t len, uint64_t unix_ns, struct webhook_event *out,
                  size_t max, char *err, size_t errlen);

/* Stops the server and frees everything. Accepts NULL. */
void webhook_stop(struct webhook *w);

#endif
