/*
 * version.c - the versions of the libraries core runs with, for --version
 * (front ends must not include their headers).
 */
#include <jansson.h>
#include <stdio.h>
#include <unbound.h>

#include "core.h"
#include "probe/tls.h"

void mxs_library_versions(char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", tls_library_version());
}

const char *mxs_unbound_version(void) { return ub_version(); }

const char *mxs_jansson_version(void) { return jansson_version_str(); }
