/*
 * alerts: see alerts.h. A source that lists an alert is a sighting; a source that stops listing
 * an alert it listed is its end (Prometheus and Alertmanager drop resolved alerts from their
 * lists), while the webhook says "resolved" itself. One slot per alert name keeps the first
 * sighting and the first end per source; later flaps do not move them.
 */
#include "alerts.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "webhook.h"

#define POLL_NS 500000000ull
#define MAX_LISTED 64
#define MAX_WEBHOOK_BATCH 256

static struct experiment_alert *alert_slot(struct experiment_result *res, const char *name)
{
    for (size_t i = 0; i < res->nalerts; i++) {
        if (strcmp(res->alerts[i].name, name) == 0)
            return &res->alerts[i];
    }
    if (res->nalerts == EXPERIMENT_MAX_ALERTS)
        return NULL;
    struct experiment_alert *a = &res->alerts[res->nalerts++];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->prom_pending_s = a->prom_firing_s = a->prom_resolved_s = -1;
    a->am_active_s = a->am_resolved_s = a->hook_firing_s = a->hook_resolved_s = -1;
    return a;
}

static int listed(const struct probe_alert *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].name, name) == 0)
            return 1;
    }
    return 0;
}

static void poll_prometheus(struct run *r, double t)
{
    struct experiment_result *res = r->res;
    struct probe_alert list[MAX_LISTED];
    size_t n;
    char err[300];
    if (probes_prometheus_alerts(r->o->prometheus_url, list, MAX_LISTED, &n, err, sizeof(err)) <
        0) {
        snprintf(res->alerts_error, sizeof(res->alerts_error), "%s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct experiment_alert *a = alert_slot(res, list[i].name);
        if (a && a->prom_pending_s < 0)
            a->prom_pending_s = t;
        if (a && a->prom_firing_s < 0 && strcmp(list[i].state, "firing") == 0)
            a->prom_firing_s = t;
    }
    for (size_t i = 0; i < res->nalerts; i++) {
        struct experiment_alert *a = &res->alerts[i];
        if (a->prom_firing_s >= 0 && a->prom_resolved_s < 0 && !listed(list, n, a->name))
            a->prom_resolved_s = t;
    }
}

static void poll_alertmanager(struct run *r, double t)
{
    struct experiment_result *res = r->res;
    struct probe_alert list[MAX_LISTED];
    size_t n;
    char err[300];
    if (probes_alertmanager_alerts(r->o->alertmanager_url, list, MAX_LISTED, &n, err, sizeof(err)) <
        0) {
        snprintf(res->alerts_error, sizeof(res->alerts_error), "%s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct experiment_alert *a = alert_slot(res, list[i].name);
        if (a && a->am_active_s < 0)
            a->am_active_s = t;
    }
    for (size_t i = 0; i < res->nalerts; i++) {
        struct experiment_alert *a = &res->alerts[i];
        if (a->am_active_s >= 0 && a->am_resolved_s < 0 && !listed(list, n, a->name))
            a->am_resolved_s = t;
    }
}

/* Alertmanager posts a group's whole state: with group_by [alertname, service], one POST lists
 * every instance of an alert (e.g. file state "missing" resolved and "is_directory" firing).
 * The alert counts as resolved only by a POST in which none of its instances still fires. */
static int still_firing_in_post(const struct webhook_event *ev, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++)
        if (ev[j].unix_ns == ev[i].unix_ns && strcmp(ev[j].alertname, ev[i].alertname) == 0 &&
            strcmp(ev[j].status, "firing") == 0)
            return 1;
    return 0;
}

/* The notifications received since the last poll, stamped when they arrived. */
static void poll_webhook(struct run *r)
{
    struct experiment_result *res = r->res;
    struct webhook_event ev[MAX_WEBHOOK_BATCH];
    size_t got;
    while ((got = webhook_events(r->o->webhook, r->webhook_from, ev, MAX_WEBHOOK_BATCH))) {
        r->webhook_from += got;
        for (size_t i = 0; i < got; i++) {
            struct experiment_alert *a = alert_slot(res, ev[i].alertname);
            double at = ((double)ev[i].unix_ns - (double)res->start_unix_ns) / 1e9;
            if (!a)
                continue;
            if (strcmp(ev[i].status, "firing") == 0 && a->hook_firing_s < 0)
                a->hook_firing_s = at;
            else if (strcmp(ev[i].status, "resolved") == 0 && a->hook_firing_s >= 0 &&
                     a->hook_resolved_s < 0 && !still_firing_in_post(ev, got, i))
                a->hook_resolved_s = at;
        }
    }
    res->webhook_posts = webhook_posts(r->o->webhook);
}

int alerts_wanted(const struct experiment_options *o)
{
    return o->prometheus_url || o->alertmanager_url || o->webhook;
}

void alerts_poll(struct run *r)
{
    double t = run_now_s(r);
    if (r->o->prometheus_url)
        poll_prometheus(r, t);
    if (r->o->alertmanager_url)
        poll_alertmanager(r, t);
    if (r->o->webhook)
        poll_webhook(r);
}

void alerts_poll_if_due(struct run *r)
{
    if (!alerts_wanted(r->o) || clock_monotonic_ns() < r->next_alert_poll)
        return;
    alerts_poll(r);
    r->next_alert_poll = clock_monotonic_ns() + POLL_NS;
}

/* Fired in some source and still listed (or not resolved) in one that saw it fire. */
static int unresolved(const struct experiment_alert *a)
{
    return (a->prom_firing_s >= 0 && a->prom_resolved_s < 0) ||
           (a->am_active_s >= 0 && a->am_resolved_s < 0) ||
           (a->hook_firing_s >= 0 && a->hook_resolved_s < 0);
}

int alerts_settled(struct run *r, const struct probe_sample *s)
{
    (void)s;
    for (size_t i = 0; r->sc->expect.alerts[i]; i++) {
        struct experiment_alert *a = alert_slot(r->res, r->sc->expect.alerts[i]);
        if (!a)
            return 0;
        int fired = a->prom_firing_s >= 0 || a->am_active_s >= 0 || a->hook_firing_s >= 0;
        if (!fired || unresolved(a))
            return 0;
    }
    return 1;
}

struct experiment_alert *alerts_expect(struct experiment_result *res, const char *name)
{
    struct experiment_alert *a = alert_slot(res, name);
    if (a)
        a->expected = 1;
    return a;
}

/* Seen (a time, not -1) at or after `since`. */
static int seen_since(double t, double since)
{
    return t >= 0 && t >= since;
}

enum alerts_outcome alerts_outcome(const struct experiment_alert *a, double injected_s)
{
    int before = (a->prom_firing_s >= 0 && a->prom_firing_s < injected_s) ||
                 (a->hook_firing_s >= 0 && a->hook_firing_s < injected_s);
    if (before)
        return ALERTS_FIRING_BEFORE;
    int fired = seen_since(a->prom_firing_s, injected_s) ||
                seen_since(a->am_active_s, injected_s) || seen_since(a->hook_firing_s, injected_s);
    if (!fired)
        return ALERTS_NEVER_FIRED;
    return unresolved(a) ? ALERTS_NOT_RESOLVED : ALERTS_FIRED_AND_RESOLVED;
}
