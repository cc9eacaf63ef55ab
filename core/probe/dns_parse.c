/*
 * dns_parse.c - the pure helpers of the DNS module (see dns.h): wire-format
 * names to presentation form, MX / TLSA / TXT RDATA, and the host-name judge
 * of MX targets (Postfix's valid_hostaddr()/valid_hostname() rules).  No
 * I/O, no libunbound: unit-tested (tests/unit/test_dns.c) and fuzzed
 * (tests/fuzz/fuzz_dns.c).  Owner: DNS module.
 */
#include "probe/dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int dns_name_to_text(const unsigned char *p, size_t len, size_t *used, char *out,
                     size_t outlen)
{
    size_t i = 0, o = 0, wire = 0;

    if (used)
        *used = 0;
    if (!p || !out || outlen < 2)
        return -1;
    out[0] = '\0';
    for (;;) {
        if (i >= len)
            return -1;                     /* truncated: no root label */
        size_t l = p[i];
        if (l == 0) {
            i++;
            wire++;
            break;
        }
        if (l > 63)
            return -1;                     /* pointer or extended label type */
        if (i + 1 + l > len)
            return -1;
        wire += 1 + l;
        if (wire + 1 > 255)
            return -1;                     /* RFC 1035: 255 octets at most */
        if (o > 0) {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = '.';
        }
        for (size_t k = 0; k < l; k++) {
            unsigned char c = p[i + 1 + k];
            char tmp[5];
            size_t tl;
            if (c == '.' || c == '\\') {
                tmp[0] = '\\'; tmp[1] = (char)c; tl = 2;
            } else if (c <= 0x20 || c >= 0x7f) {
                tmp[0] = '\\';
                tmp[1] = (char)('0' + c / 100);
                tmp[2] = (char)('0' + (c / 10) % 10);
                tmp[3] = (char)('0' + c % 10);
                tl = 4;
            } else {
                tmp[0] = (char)c; tl = 1;
            }
            if (o + tl >= outlen)
                return -1;
            memcpy(out + o, tmp, tl);
            o += tl;
        }
        i += 1 + l;
    }
    if (o == 0)
        out[o++] = '.';                    /* the root name */
    out[o] = '\0';
    if (used)
        *used = i;
    return 0;
}

int dns_parse_mx(const unsigned char *rdata, size_t len, uint16_t *pref,
                 char *host, size_t hostlen)
{
    size_t used = 0;

    if (!rdata || !pref || !host || len < 3)
        return -1;
    if (dns_name_to_text(rdata + 2, len - 2, &used, host, hostlen) != 0)
        return -1;
    if (used != len - 2) {                 /* trailing bytes: malformed RDATA */
        host[0] = '\0';
        return -1;
    }
    *pref = (uint16_t)((rdata[0] << 8) | rdata[1]);
    return 0;
}

int dns_parse_tlsa(const unsigned char *rdata, size_t len, struct mxs_tlsa *t)
{
    if (!rdata || !t || len < 4)           /* 3 fields + some association data */
        return -1;
    memset(t, 0, sizeof *t);
    t->usage = rdata[0];
    t->selector = rdata[1];
    t->mtype = rdata[2];
    t->len = len - 3;
    if (t->len > sizeof t->data) {
        t->len = sizeof t->data;
        t->truncated = 1;
    }
    memcpy(t->data, rdata + 3, t->len);
    return 0;
}

/* Presentation form -> raw label bytes, DNS_SEP between labels; an escaped
 * dot stays inside its label (and is flagged).  -1 on a malformed escape or
 * overflow. */
#define DNS_SEP 0x100
static int dns_pres_labels(const char *name, unsigned short *raw, size_t cap,
                           size_t *rawlen, int *inner_dot)
{
    size_t o = 0;
    *inner_dot = 0;
    for (const char *p = name; *p; p++) {
        unsigned c = (unsigned char)*p;
        if (c == '.') {
            c = DNS_SEP;
        } else if (c == '\\') {
            if (p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
                p[3] >= '0' && p[3] <= '9') {
                c = (unsigned)((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
                if (c > 255)
                    return -1;
                p += 3;
            } else if (p[1]) {
                c = (unsigned char)*++p;
            } else {
                return -1;
            }
            if (c == '.')
                *inner_dot = 1;
        }
        if (o >= cap)
            return -1;
        raw[o++] = (unsigned short)c;
    }
    *rawlen = o;
    return 0;
}

size_t dns_host_raw(const char *name, char *out, size_t cap)
{
    unsigned short raw[300];
    size_t n = 0, o = 0;
    int inner = 0;
    if (!out || cap == 0)
        return 0;
    if (!name || dns_pres_labels(name, raw, sizeof raw / sizeof raw[0], &n, &inner) != 0)
        n = 0;
    for (size_t i = 0; i < n && o < cap; i++)
        out[o++] = raw[i] == DNS_SEP ? '.' : (char)raw[i];
    if (o < cap)
        out[o] = '\0';
    return o;
}

int dns_host_check(const char *name, char *why, size_t whylen)
{
    unsigned short raw[300];
    size_t n = 0;
    int inner_dot = 0, non_numeric = 0;
    unsigned char a4[16];

    if (why && whylen)
        why[0] = '\0';
    if (!name || !name[0] || strcmp(name, ".") == 0) {
        snprintf(why, whylen, "is empty");
        return DNS_HOST_INVALID;
    }
    /* Postfix valid_hostaddr() first: an address is used as is. */
    if (inet_pton(AF_INET, name, a4) == 1 || inet_pton(AF_INET6, name, a4) == 1)
        return DNS_HOST_LITERAL;
    if (dns_pres_labels(name, raw, sizeof raw / sizeof raw[0], &n, &inner_dot) != 0) {
        snprintf(why, whylen, "is not a domain name");
        return DNS_HOST_INVALID;
    }
    if (n > 0 && raw[n - 1] == DNS_SEP)
        n--;                               /* "host.example." == "host.example" */
    /* The most telling reason first: control bytes, then non-ASCII. */
    for (size_t i = 0; i < n; i++)
        if (raw[i] < 0x20 || raw[i] == 0x7f) {
            snprintf(why, whylen, "contains control bytes (0x%02X)", raw[i]);
            return DNS_HOST_INVALID;
        }
    for (size_t i = 0; i < n; i++)
        if (raw[i] >= 0x80 && raw[i] != DNS_SEP) {
            snprintf(why, whylen, "contains non-ASCII bytes (0x%02X; an IDN must be "
                     "in its xn-- form)", raw[i]);
            return DNS_HOST_INVALID;
        }
    if (inner_dot) {
        snprintf(why, whylen, "has a dot inside a label");
        return DNS_HOST_INVALID;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned c = i < n ? raw[i] : DNS_SEP;
        if (c == DNS_SEP) {                /* end of a label */
            if (i == start) {
                snprintf(why, whylen, "has an empty label");
                return DNS_HOST_INVALID;
            }
            if (raw[start] == '-' || raw[i - 1] == '-') {
                snprintf(why, whylen, "has a label that starts or ends with a hyphen");
                return DNS_HOST_INVALID;
            }
            start = i + 1;
            continue;
        }
        if (c == ' ') {
            snprintf(why, whylen, "contains a space");
            return DNS_HOST_INVALID;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            snprintf(why, whylen, "contains the character '%c'", (char)c);
            return DNS_HOST_INVALID;
        }
        if (c < '0' || c > '9')
            non_numeric = 1;
    }
    if (!non_numeric) {
        snprintf(why, whylen, "is all digits (neither a host name nor an address)");
        return DNS_HOST_INVALID;
    }
    return DNS_HOST_OK;
}

int dns_parse_txt(const unsigned char *rdata, size_t len, char *out, size_t cap,
                  size_t *outlen, size_t *total)
{
    size_t i = 0, o = 0, t = 0;

    if (outlen)
        *outlen = 0;
    if (total)
        *total = 0;
    if (!rdata || len == 0)
        return -1;                         /* at least one character-string */
    while (i < len) {
        size_t l = rdata[i++];
        if (i + l > len)
            return -1;                     /* a string past the RDATA */
        for (size_t k = 0; k < l; k++, t++)
            if (out && o < cap)
                out[o++] = (char)rdata[i + k];
        i += l;
    }
    if (outlen)
        *outlen = o;
    if (total)
        *total = t;
    return 0;
}
