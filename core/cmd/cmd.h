/*
 * cmd.h - its declarations are public and live in core.h (group
 * "Commands"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_CMD_H
#define MXS_CMD_H
#include "core.h"

#endif
