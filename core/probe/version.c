/*
 * version.c - what front ends ask of the libraries core runs with, without
 * including their headers: versions for --version, and the check of the
 * operator's own TLS files before any probe.
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

int mxs_check_local_files(const struct mxs_settings *s, char *err, size_t errlen)
{
    return tls_check_local_files(s, err, errlen);
}
