/*
 * buf.h - its declarations are public and live in core.h (group
 * "Buffers"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_BUF_H
#define MXS_BUF_H
#include "core.h"

#endif
