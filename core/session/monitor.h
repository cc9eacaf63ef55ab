/*
 * monitor.h - the monitoring renderer's entry for callers inside core that
 * already hold a parsed document (core/cmd's --domains scheduler): no second
 * parse of the text.  The public API is core.h's "Monitoring" group.
 * Owner: core/session/monitor.c.
 */
#ifndef MXS_SESSION_MONITOR_H
#define MXS_SESSION_MONITOR_H
#include <jansson.h>
#include <stddef.h>

struct mxs_monitor;

/* As mxs_monitor_add() for a document jansson already parsed; doc stays the
 * caller's (nothing of it is kept). */
int monitor_add_json(struct mxs_monitor *m, const json_t *doc, char *err, size_t errlen);

#endif
