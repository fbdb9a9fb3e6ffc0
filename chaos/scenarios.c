/*
 * scenarios: the ownership of a scenario's strings and the metric conditions' arithmetic (see
 * scenarios.h).
 */
#include "scenarios.h"

#include <stdlib.h>
#include <string.h>

const char *scenario_keep(struct scenario *sc, const char *s)
{
    if (!s)
        return NULL;
    if (sc->nowned == sc->owned_cap) {
        size_t cap = sc->owned_cap ? 2 * sc->owned_cap : 64;
        char **grown = realloc(sc->owned, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        sc->owned = grown;
        sc->owned_cap = cap;
    }
    char *copy = strdup(s);
    if (copy)
        sc->owned[sc->nowned++] = copy;
    return copy;
}

void scenario_free(struct scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nowned; i++)
        free(sc->owned[i]);
    free(sc->owned);
    free(sc);
}

int scenario_metric_index(const struct scenario_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nmetrics; i++)
        if (strcmp(svc->metrics[i].name, name) == 0)
            return (int)i;
    return -1;
}

int scenario_metric_holds(const struct scenario_metric_expect *e, double v)
{
    switch (e->op) {
    case METRIC_EQ:
        return v == e->value;
    case METRIC_NE:
        return v != e->value;
    case METRIC_LT:
        return v < e->value;
    case METRIC_LE:
        return v <= e->value;
    case METRIC_GT:
        return v > e->value;
    case METRIC_GE:
        return v >= e->value;
    case METRIC_GROWS:
        return 0;
    }
    return 0;
}
