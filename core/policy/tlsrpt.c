/*
 * tlsrpt.c - the TLS-RPT record (RFC 8460 §3): where a domain wants
 * reports of senders' TLS failures.
 *
 * rua= holds one or more URIs separated by commas (a comma or semicolon
 * inside a URI must be %-encoded, §3); mailto: and https: are the two
 * schemes senders deliver to.  A URI of another scheme is kept and marked,
 * since a sender skips it.
 */
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "policy/policy_int.h"

const char *tlsrpt_uri_kind_name(enum tlsrpt_uri_kind k)
{
    return k == TLSRPT_URI_MAILTO ? "mailto" : k == TLSRPT_URI_HTTPS ? "https" : "other";
}

static void tlsrpt_add_uri(struct tlsrpt_txt *t, const char *u, size_t len)
{
    t->n_rua_total++;
    if (t->n_rua >= TLSRPT_MAX_RUA)
        return;
    int i = t->n_rua++;
    enum tlsrpt_uri_kind k = TLSRPT_URI_OTHER;
    int ok = 0;
    if (len >= 7 && strncasecmp(u, "mailto:", 7) == 0) {
        k = TLSRPT_URI_MAILTO;
        const char *at = memchr(u + 7, '@', len - 7);
        ok = at && at > u + 7 && at < u + len - 1;
    } else if (len >= 8 && strncasecmp(u, "https://", 8) == 0) {
        k = TLSRPT_URI_HTTPS;
        ok = len > 8 && u[8] != '/';
    }
    for (size_t j = 0; j < len && ok; j++) {
        unsigned char c = (unsigned char)u[j];
        if (c <= 0x20 || c >= 0x7f)
            ok = 0;
    }
    t->rua[i].kind = k;
    t->rua[i].ok = ok;
    t->rua[i].full_len = len;
    t->rua[i].len = len < sizeof t->rua[i].uri ? len : sizeof t->rua[i].uri;
    memcpy(t->rua[i].uri, u, t->rua[i].len);
}

struct tlsrpt_state {
    struct tlsrpt_txt *out;
    int have_rua;
};

static int tlsrpt_field(const char *name, size_t nlen, const char *val, size_t vlen,
                        int index, void *arg, char *err, size_t errlen)
{
    struct tlsrpt_state *st = arg;
    if (index == 0) {
        if (nlen != 1 || name[0] != 'v' || vlen != 8 || memcmp(val, "TLSRPTv1", 8) != 0) {
            policy_msg(err, errlen, "the record does not start with v=TLSRPTv1");
            return -1;
        }
        return 0;
    }
    if (nlen == 3 && memcmp(name, "rua", 3) == 0) {
        if (st->have_rua) {
            policy_msg(err, errlen, "rua= appears twice");
            return -1;
        }
        st->have_rua = 1;
        size_t i = 0;
        while (i <= vlen) {
            size_t s = i;
            while (i < vlen && val[i] != ',')
                i++;
            size_t a = s, b = i;
            while (a < b && (val[a] == ' ' || val[a] == '\t')) a++;
            while (b > a && (val[b - 1] == ' ' || val[b - 1] == '\t')) b--;
            if (a == b) {
                policy_msg(err, errlen, "rua= has an empty URI");
                return -1;
            }
            tlsrpt_add_uri(st->out, val + a, b - a);
            i++;
        }
        return 0;
    }
    st->out->n_ext++;
    return 0;
}

int tlsrpt_txt_parse(const char *rec, size_t len, struct tlsrpt_txt *out)
{
    struct tlsrpt_state st = { out, 0 };
    memset(out, 0, sizeof *out);
    if (policy_fields(rec, len, tlsrpt_field, &st, out->error, sizeof out->error) != 0)
        return -1;
    if (!st.have_rua) {
        policy_msg(out->error, sizeof out->error, "the record has no rua= field");
        return -1;
    }
    int usable = 0;
    for (int i = 0; i < out->n_rua; i++)
        usable += out->rua[i].ok && out->rua[i].kind != TLSRPT_URI_OTHER;
    if (!usable) {
        policy_msg(out->error, sizeof out->error,
                   "no rua= URI is a well-formed mailto: or https: address");
        return -1;
    }
    out->valid = 1;
    return 0;
}
