/*
 * survey.h - its declarations are public and live in core.h (group
 * "Survey"); this header only keeps the includes inside core/ working.  Front
 * ends include core.h, never this file.
 */
#ifndef MXS_SURVEY_H
#define MXS_SURVEY_H
#include "core.h"

#endif
