/*
 * savefile.h - its declarations are public and live in core.h (group
 * "Files"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_SAVEFILE_H
#define MXS_SAVEFILE_H
#include "core.h"

#endif
