/*
 * esc.h - its declarations are public and live in core.h (group
 * "Escaping"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_ESC_H
#define MXS_ESC_H
#include "core.h"

#endif
