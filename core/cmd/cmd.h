/*
 * cmd.h - its declarations are public and live in core.h (group
 * "Commands"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_CMD_H
#define MXS_CMD_H
#include "core.h"

/* Inside core/cmd only: the lab provider the front end registered (NULL:
 * none), for completion of `open lab:NAME` (complete.c). */
const struct mxs_lab_ops *cmd_lab_provider(void);

#endif
