/*
 * catalog.c - the catalogue of findings: one row per finding id (see
 * diag.h, struct diag_entry), and the template expansion of its advice.
 * Owner: diagnosis.
 *
 * Everything constant about a finding lives here: its id, the step it is
 * filed under, its severity, the policies it stops, a one-line title and the
 * advice for both sides.  The code that decides whether a finding holds and
 * writes its message and evidence (check_*.c) names a row by its index
 * (enum diag_row in diag_int.h), so a misspelt id does not compile.
 *
 * A few ids have variant rows (same id, other advice): the case decides
 * which text applies (an expired intermediate, a fingerprint given as
 * SHA-1, the generic text of a step that failed without a specific cause).
 * diag_find_id() returns the id's own row (variant NULL).
 *
 * Advice templates name facts in braces, filled by diag_advise(): {domain}
 * (the mail domain), {name} (a host or record name), {what} (a record
 * type), {port}, {expected} (the thumbprint asked for), {spki} (the served
 * key's SHA-256).  docs/findings.md documents every id (test_diag checks it).
 */
#include "diag/diag_int.h"

#include <stdio.h>
#include <string.h>

/* Third-party advice shared by many rows. */
#define THIRD_TLS                                                              \
    "send this report (mxscope `report`) to their postmaster; until it is "   \
    "fixed, deliver to {domain} with opportunistic TLS if your policy allows " \
    "(Postfix: `{domain} may` in smtp_tls_policy_maps; Exchange: a send "     \
    "connector for the domain without RequireTLS / domain security)."
#define THIRD_REACH                                                            \
    "send this report to their postmaster by another channel (web form, "     \
    "phone, an address at another domain); temporary (4xx) failures are "     \
    "retried by your MTA for its queue lifetime (Postfix "                     \
    "maximal_queue_lifetime, 5 days by default)."

#define OWN_LOG "check the MTA log at the time of this test."
#define OWN_RENEW                                                              \
    "renew it and install the new certificate: Postfix: replace the files "   \
    "named by smtpd_tls_chain_files (or smtpd_tls_cert_file), `postfix "      \
    "reload`; Exchange: `New-ExchangeCertificate` / import, then "            \
    "`Enable-ExchangeCertificate -Thumbprint <new> -Services SMTP` (Event "   \
    "12016 = expired, 12018 = about to expire)."
#define OWN_DNSSEC_BOGUS                                                       \
    "re-sign the zone or fix the DS record at the parent (expired RRSIG, key " \
    "rollover with a stale DS are the usual causes); check with `delv {name} " \
    "{what}` or DNSViz."
#define OWN_NO_CCERT                                                           \
    "a public MX must not require client certificates (Postfix: "             \
    "smtpd_tls_req_ccert = no; Exchange: only domain-secured / mutual TLS "   \
    "partners "
#define OWN_FINGERPRINT                                                        \
    "the renewed certificate is installed but not in use: Exchange: "         \
    "`Enable-ExchangeCertificate -Thumbprint <new> -Services SMTP` (check "   \
    "with `Get-ExchangeCertificate | fl Thumbprint,Services,NotAfter`); "     \
    "Postfix: update smtpd_tls_chain_files and `postfix reload`. Every node " \
    "behind the MX needs it."
#define THIRD_FINGERPRINT                                                      \
    "if they renewed on purpose, update your pin (Postfix `fingerprint` "     \
    "policy, smtp_tls_policy_maps); else send them this report."

/* Rows of a step failed without a more specific cause. */
#define FALLBACK(id_, variant_, step_, blocks_, third_, title_)                \
    {id_, variant_, MXS_STEP_##step_, MXS_SEV_ERROR, blocks_, title_, OWN_LOG, \
     third_}

#define E MXS_SEV_ERROR
#define W MXS_SEV_WARNING
#define ALL DIAG_BLK_ALL
#define TLS DIAG_BLK_TLS
#define VERIFY DIAG_BLK_VERIFY
#define LOCAL DIAG_BLK_LOCAL

const struct diag_entry diag_rows[D_COUNT] = {
/* ---- RESOLVE ---------------------------------------------------------- */
[D_DNS_NXDOMAIN] = {"dns-nxdomain", NULL, MXS_STEP_RESOLVE, E, ALL,
    "the domain (or an MX host) does not exist",
    "publish the {what} records (check the delegation at the registrar with "
    "`dig NS`); a typo in the MX target is a common cause.",
    "check the address you are sending to for a typo; otherwise mail to it "
    "bounces, nothing to fix on your side."},
[D_DNS_SERVFAIL] = {"dns-servfail", NULL, MXS_STEP_RESOLVE, E, ALL,
    "the lookup failed (SERVFAIL) without a DNSSEC verdict",
    "check the authoritative name servers answer (`dig +norec @ns {name} "
    "{what}`), lame delegations and DNSSEC.",
    "try another resolver (mxscope `set resolver`); if it persists, tell "
    "their postmaster."},
[D_DNS_TIMEOUT] = {"dns-timeout", NULL, MXS_STEP_RESOLVE, E, ALL,
    "no DNS answer in time",
    "check the authoritative servers are reachable over UDP and TCP port 53.",
    "check your own resolver first (mxscope `set resolver`); if others time "
    "out too, tell their postmaster."},
[D_DNS_TIMEOUT_FB] = FALLBACK("dns-timeout", "fallback", RESOLVE, ALL,
    THIRD_REACH, NULL),
[D_DNS_ERROR] = {"dns-error", NULL, MXS_STEP_RESOLVE, E, ALL,
    "another DNS rcode (REFUSED, FORMERR...)",
    "check the zone answers for {what}.",
    "check your resolver settings."},
[D_DNS_NO_ADDRESS] = {"dns-no-address", NULL, MXS_STEP_RESOLVE, E, ALL,
    "the MX host has no address (of the allowed family)",
    "publish A/AAAA records for {name}, or point the MX at a host that has "
    "them (an MX must not point at a CNAME or an IP literal).",
    THIRD_REACH},
[D_MX_NULL] = {"mx-null", NULL, MXS_STEP_RESOLVE, E, ALL,
    "null MX (\"0 .\"): the domain takes no mail (RFC 7505)",
    "if the domain should receive mail, replace the null MX with real MX "
    "records.",
    "the domain declares it receives no mail; use another address."},
[D_MX_IMPLICIT] = {"mx-implicit", NULL, MXS_STEP_RESOLVE, W, 0,
    "no MX: mail goes to the domain's own A/AAAA",
    "publish an explicit MX record; some senders and MTA-STS/DANE setups "
    "need one.",
    "nothing to do if delivery works; tell them if mail should go "
    "elsewhere."},
[D_DNSSEC_BOGUS] = {"dnssec-bogus", NULL, MXS_STEP_RESOLVE, E, ALL,
    "DNSSEC validation failed: validating senders defer",
    OWN_DNSSEC_BOGUS,
    "mail from validating senders is deferred until they fix DNSSEC; send "
    "them this report."},
[D_DNSSEC_BOGUS_TLSA] = {"dnssec-bogus", "tlsa", MXS_STEP_RESOLVE, W, 0,
    NULL,
    "re-sign the zone or fix its DS record; check with `delv TLSA {name}`.",
    "send them this report."},
/* Our resolver, not their zone: the verdicts cannot be evaluated (LOCAL). */
[D_RESOLVER_NO_DNSSEC] = {"resolver-no-dnssec", NULL, MXS_STEP_RESOLVE, E, LOCAL,
    "our resolver does not pass DNSSEC: answers cannot be validated here",
    "use a resolver that passes DNSSEC and point mxscope at it (`--resolver "
    "ADDR`, e.g. a local unbound; `set resolver ADDR` in the console), or fix "
    "this one (a forwarder that strips signatures: dnsmasq needs "
    "proxy-dnssec); until then nothing is known about the DNSSEC of {domain}.",
    "nothing to do: the problem is on the side that runs mxscope, not on "
    "{domain}'s."},
/* Hostile or odd answers (tests/integration/dns_hostile.sh). */
[D_MX_TARGET_INVALID] = {"mx-target-invalid", NULL, MXS_STEP_RESOLVE, E, ALL,
    "an MX target is not a host name (control bytes, spaces, non-ASCII...): "
    "senders skip it",
    "point every MX record at a real host name (letters, digits, hyphens; "
    "an IDN in its xn-- form) and check the zone file for a stray quote or "
    "escape (`dig MX {domain}`).",
    "Postfix skips such a record (\"malformed domain name in resource data "
    "of MX record\") and bounces the mail (5.4.4) when none is left; "
    THIRD_REACH},
[D_MX_TARGET_LITERAL] = {"mx-target-literal", NULL, MXS_STEP_RESOLVE, W, 0,
    "an MX target is an IP address, not a host name",
    "publish a host name with A/AAAA records as the MX target: an MX names "
    "a host (RFC 1035 3.3.9); an address there works only where the sender "
    "reads it as one: Postfix does, with a warning (\"numeric domain "
    "name\"), stricter senders look up A records for the name \"{name}\" "
    "and find none.",
    "nothing to do while delivery works; tell them, stricter senders may "
    "not deliver."},
[D_MX_TARGET_CNAME] = {"mx-target-cname", NULL, MXS_STEP_RESOLVE, W, 0,
    "an MX target is an alias (CNAME): senders follow it, RFC 2181 10.3 "
    "forbids it",
    "point the MX record at the canonical name (the end of the chain) "
    "instead of the alias {name}.",
    "nothing to do while delivery works: Postfix and most senders follow "
    "the CNAME; tell them if it breaks (DANE looks up the TLSA at the "
    "alias first)."},
[D_DNS_CNAME_LOOP] = {"dns-cname-loop", NULL, MXS_STEP_RESOLVE, E, ALL,
    "the MX host's CNAME chain loops or is too long: no address",
    "break the loop: the CNAME chain from {name} must end at a name with "
    "A/AAAA records, in a few hops (resolvers give up after about 10).",
    THIRD_REACH},
[D_MX_MANY] = {"mx-many", NULL, MXS_STEP_RESOLVE, W, 0,
    "more MX records than mxscope keeps: the most preferred kept, the rest "
    "counted",
    "publish the few MX hosts that take mail: senders try only some of "
    "them (Postfix: 5 addresses, smtp_mx_address_limit), and a large "
    "answer needs TCP.",
    "nothing to do: the most preferred hosts were probed."},
[D_DNS_SLOW] = {"dns-slow", NULL, MXS_STEP_RESOLVE, W, 0,
    "a DNS answer took more than a second",
    "check the authoritative name servers answer quickly over UDP (`dig "
    "+norec @ns {name} {what}`); slow answers delay every sender.",
    "check your own resolver first (mxscope `set resolver`); senders wait "
    "up to about 5 s per try (glibc's resolver, which Postfix uses)."},
[D_DNS_FAILED] = FALLBACK("dns-failed", NULL, RESOLVE, ALL, THIRD_REACH,
    "RESOLVE failed, no more specific cause"),

/* ---- CONNECT ---------------------------------------------------------- */
[D_CONNECT_REFUSED] = {"connect-refused", NULL, MXS_STEP_CONNECT, E, ALL,
    "TCP RST: nothing listens on the port",
    "check the MTA runs and listens on that address (Postfix: `postfix "
    "status`, `postconf inet_interfaces`, the smtp line in master.cf; "
    "Exchange: the Default Frontend receive connector's bindings, the "
    "MSExchangeFrontEndTransport service, Windows Firewall).",
    THIRD_REACH},
[D_CONNECT_TIMEOUT] = {"connect-timeout", NULL, MXS_STEP_CONNECT, E, ALL,
    "no answer to SYN: a firewall drops it, or the host is down",
    "check the host is up and that port {port} is open in every "
    "firewall/NAT/security group on the way. Also check your own network "
    "lets outgoing port {port} out (many ISPs and clouds block it).",
    THIRD_REACH},
[D_CONNECT_TIMEOUT_FB] = FALLBACK("connect-timeout", "fallback", CONNECT, ALL,
    THIRD_REACH, NULL),
[D_CONNECT_UNREACHABLE] = {"connect-unreachable", NULL, MXS_STEP_CONNECT, E,
    ALL, "no route to the address",
    "check routing and the published address (an AAAA record for a host "
    "without working IPv6 is a common cause). If IPv6 is the problem on your "
    "side, try `set family 4`.",
    THIRD_REACH},
[D_CONNECT_FAILED] = {"connect-failed", NULL, MXS_STEP_CONNECT, E, ALL,
    "another connect error",
    "check the address and the MTA.",
    THIRD_REACH},
[D_CONNECT_FAILED_FB] = FALLBACK("connect-failed", "fallback", CONNECT, ALL,
    THIRD_REACH, NULL),

/* ---- BANNER ----------------------------------------------------------- */
[D_BANNER_REJECTED] = {"banner-rejected", NULL, MXS_STEP_BANNER, E, ALL,
    "5xx greeting: we are refused",
    "the reply text names the rule: check postscreen / "
    "smtpd_client_restrictions and DNSBL hits in the Postfix log, or the "
    "receive connector's RemoteIPRanges and connection filtering (IP block "
    "list) in Exchange.",
    "check whether your sending address is on a block list; send this report "
    "to their postmaster by another channel."},
[D_BANNER_THROTTLED] = {"banner-throttled", NULL, MXS_STEP_BANNER, E, ALL,
    "421 greeting: throttled or overloaded",
    "check connection limits (Postfix smtpd_client_connection_count_limit, "
    "anvil, postscreen; Exchange MaxInboundConnectionPerSource, back pressure "
    "Event 15004-15007) and the load.",
    "check whether your sending address is on a block list; send this report "
    "to their postmaster by another channel."},
[D_BANNER_SLOW] = {"banner-slow", NULL, MXS_STEP_BANNER, W, 0,
    "the greeting came later than 3 s",
    "a deliberate greet delay (postscreen_greet_wait, a tarpit) is fine below "
    "a minute; otherwise look for slow reverse DNS or an overloaded server.",
    "nothing to fix on your side: MTAs wait up to 5 minutes (Postfix "
    "smtp_helo_timeout 300 s)."},
[D_BANNER_TIMEOUT] = {"banner-timeout", NULL, MXS_STEP_BANNER, E, ALL,
    "no greeting before the deadline",
    "a greeting delay longer than a minute or two (tarpit, "
    "postscreen_greet_wait, a slow reverse DNS lookup) makes senders give up;"
    " RFC 5321 senders wait 5 minutes. Check the MTA is not hung.",
    "try a longer wait (`set timeout-banner`) to tell a tarpit from a hung "
    "server, then tell their postmaster."},
[D_BANNER_TIMEOUT_FB] = FALLBACK("banner-timeout", "fallback", BANNER, ALL,
    THIRD_REACH, NULL),
[D_BANNER_CLOSED] = {"banner-closed", NULL, MXS_STEP_BANNER, E, ALL,
    "the server closed before greeting",
    "a close without greeting is often a pre-greet trap (client talked "
    "first), a connection limit or a crashed smtpd: check the MTA log at "
    "that time.",
    THIRD_REACH},
[D_BANNER_FAILED] = {"banner-failed", NULL, MXS_STEP_BANNER, E, ALL,
    "no usable greeting (garbage, other error)",
    "what answered is not an SMTP greeting (see the evidence): another "
    "service on this port, a proxy or load balancer in front of the MTA, or "
    "a broken greeting; check what listens there.",
    THIRD_REACH},
[D_BANNER_FAILED_FB] = FALLBACK("banner-failed", "fallback", BANNER, ALL,
    THIRD_REACH, NULL),

/* ---- EHLO ------------------------------------------------------------- */
[D_EHLO_REJECTED] = {"ehlo-rejected", NULL, MXS_STEP_EHLO, E, ALL,
    "EHLO (and HELO) refused",
    "the reply names the rule (Postfix smtpd_helo_restrictions such as "
    "reject_unknown_helo_hostname; Exchange receive connector settings).",
    "many receivers reject an EHLO name that is not a resolvable FQDN "
    "matching your reverse DNS: check yours (`set ehlo`); otherwise send "
    "them this report."},
[D_EHLO_MASKED] = {"ehlo-masked", NULL, MXS_STEP_EHLO, E, TLS,
    "a firewall's SMTP fixup masks EHLO (XXXXXXXA)",
    "turn off SMTP/ESMTP inspection on the firewall in front of it (Cisco "
    "ASA: `no inspect esmtp` in the global policy-map; other vendors: the "
    "SMTP proxy/fixup feature), or let it pass STARTTLS. The firewall may "
    "also be on YOUR way out: test from another network.",
    THIRD_TLS},
[D_EHLO_TIMEOUT] = FALLBACK("ehlo-timeout", NULL, EHLO, ALL, THIRD_REACH,
    "no EHLO reply in time"),
[D_EHLO_FAILED] = FALLBACK("ehlo-failed", NULL, EHLO, ALL, THIRD_REACH,
    "EHLO failed otherwise (reset...)"),

/* ---- STARTTLS --------------------------------------------------------- */
[D_STARTTLS_NOT_OFFERED] = {"starttls-not-offered", NULL, MXS_STEP_STARTTLS,
    E, TLS, "EHLO has no STARTTLS",
    "Postfix: set smtpd_tls_security_level = may and smtpd_tls_chain_files "
    "(key, then certificate and intermediates), `postfix reload`; Exchange: "
    "assign a certificate for the connector FQDN to SMTP "
    "(`Enable-ExchangeCertificate -Thumbprint <thumbprint> -Services SMTP`; "
    "Event 12014 means none matches the FQDN).",
    "send them this report; with a TLS-required policy for {domain} mail "
    "stays queued, with opportunistic TLS it goes in clear."},
[D_STARTTLS_REFUSED] = {"starttls-refused", NULL, MXS_STEP_STARTTLS, E, TLS,
    "STARTTLS offered but refused (454)",
    "Postfix logs the cause (\"cannot load certificate\", \"key does not "
    "match\", permissions of the files in smtpd_tls_chain_files / "
    "smtpd_tls_cert_file); fix them and `postfix reload`. Exchange: Event "
    "12014 = no valid certificate for the connector FQDN; "
    "`Get-ExchangeCertificate | fl Thumbprint,Subject,NotAfter,Services`, "
    "then `Enable-ExchangeCertificate -Thumbprint <thumbprint> -Services "
    "SMTP`.",
    THIRD_TLS},
[D_STARTTLS_LEFTOVER] = {"starttls-plaintext-leftover", NULL,
    MXS_STEP_STARTTLS, W, 0,
    "bytes after the 220 to STARTTLS, before TLS (injection class)",
    "an SMTP proxy or firewall in front of the MTA may answer for it; an MTA "
    "must flush its input at STARTTLS: update it.",
    THIRD_TLS},
[D_STARTTLS_TIMEOUT] = FALLBACK("starttls-timeout", NULL, STARTTLS, TLS,
    THIRD_TLS, "no reply to STARTTLS in time"),
[D_STARTTLS_FAILED] = FALLBACK("starttls-failed", NULL, STARTTLS, TLS,
    THIRD_TLS, "STARTTLS failed otherwise (reset...)"),

/* ---- HANDSHAKE -------------------------------------------------------- */
/* Our own TLS files: nothing was sent, so nothing is known of the partner. */
[D_TLS_LOCAL_FILES] = {"tls-local-files", NULL, MXS_STEP_HANDSHAKE, E, LOCAL,
    "our own CA, certificate or key file cannot be used",
    "fix the file named (`set cafile` / `set cert` / `set key`; on the command "
    "line --cafile, --cert, --key): it must exist, be readable, hold PEM "
    "certificates (the key: a PEM key that matches the certificate).",
    "nothing to do: the problem is on the side that runs mxscope."},
[D_TLS_OBSOLETE_ONLY] = {"tls-obsolete-only", NULL, MXS_STEP_HANDSHAKE, E,
    TLS, "the server only speaks TLS 1.0/1.1",
    "enable TLS 1.2 and 1.3 (Postfix: smtpd_tls_protocols = >=TLSv1.2 with "
    "an OpenSSL that supports them; Exchange/Windows: enable TLS 1.2 for "
    "Schannel and .NET (SchUseStrongCrypto), apply current updates).",
    THIRD_TLS},
[D_TLS_NO_COMMON_VERSION] = {"tls-no-common-version", NULL,
    MXS_STEP_HANDSHAKE, E, TLS, "no shared TLS version",
    "allow TLS 1.2 and 1.3 (Postfix smtpd_tls_protocols / "
    "smtpd_tls_mandatory_protocols; Exchange: Schannel protocol settings). "
    "If you restricted our side with `set tls-min` / `set tls-max`, widen the "
    "range.",
    THIRD_TLS},
[D_TLS_CLIENT_CERT] = {"tls-client-cert-required", NULL, MXS_STEP_HANDSHAKE,
    E, TLS, "the server requires a client certificate",
    OWN_NO_CCERT "in TLSReceiveDomainSecureList need them, on a dedicated "
    "receive connector).",
    "ask them which client certificate they expect and configure it (mxscope "
    "`set cert`/`set key`; Postfix smtp_tls_chain_files; Exchange: "
    "TlsCertificateName on the send connector)."},
/* The handshake completed and the session is refused after it: nobody
 * delivers, not even in clear. */
[D_TLS_CLIENT_CERT_AFTER] = {"tls-client-cert-required", "after-handshake",
    MXS_STEP_HANDSHAKE, E, ALL, NULL,
    OWN_NO_CCERT "need them, on a dedicated receive connector).",
    "ask them which client certificate they expect and configure it (mxscope "
    "`set cert`/`set key`; Postfix smtp_tls_chain_files; Exchange: "
    "TlsCertificateName on the send connector)."},
[D_TLS_CERT_MSG_BIG] = {"tls-cert-message-too-big", NULL, MXS_STEP_HANDSHAKE, E, TLS,
    "Certificate message over 100 KiB: OpenSSL senders (Postfix) fail too",
    "send a smaller chain: the leaf with fewer names (split the SANs over "
    "several certificates) and only the intermediates needed (Postfix "
    "smtpd_tls_chain_files).",
    THIRD_TLS},
/* Our library, not their server: the verdicts cannot be evaluated. */
[D_TLS_CERT_MSG_LOCAL] = {"tls-cert-message-local", NULL, MXS_STEP_HANDSHAKE, E, LOCAL,
    "Certificate message over our TLS library's 16 KiB limit (senders accept it)",
    "nothing is wrong for OpenSSL senders (Postfix, up to max_cert_list = "
    "100 KiB); a smaller chain would also suit small TLS stacks.",
    "nothing to send them: this is our TLS library's limit (mbedTLS), not "
    "their server; test with `posttls-finger` or `openssl s_client "
    "-starttls smtp` for a verdict."},
/* OpenSSL accepts it, mbedTLS refuses the whole certificate: ours. */
[D_CERT_SAN_IP_LOCAL] = {"cert-san-ip-length", NULL, MXS_STEP_HANDSHAKE, E, LOCAL,
    "an iPAddress SAN of unexpected length: our TLS library refuses it, senders accept it",
    "OpenSSL senders (Postfix) accept the certificate; RFC 5280 wants 4 or 16 "
    "bytes for an iPAddress entry: fix the entry at the next renewal.",
    "nothing to send them: our TLS library (mbedTLS) refuses this encoding, "
    "OpenSSL senders do not; test with `posttls-finger` or `openssl s_client "
    "-starttls smtp` for a verdict."},
[D_TLS_HANDSHAKE_FAILED] = {"tls-handshake-failed", NULL, MXS_STEP_HANDSHAKE,
    E, TLS, "the handshake failed otherwise",
    "its TLS log says why (Postfix: smtpd_tls_loglevel = 1; Exchange: "
    "Schannel events in the System log); check the certificate and key "
    "match, cipher and protocol restrictions, and that the certificate is "
    "enabled for SMTP (`Enable-ExchangeCertificate -Services SMTP`).",
    THIRD_TLS},
[D_TLS_HANDSHAKE_FAILED_FB] = FALLBACK("tls-handshake-failed", "fallback",
    HANDSHAKE, TLS, THIRD_TLS, NULL),

/* ---- CHAIN ------------------------------------------------------------ */
[D_CERT_EXPIRED] = {"cert-expired", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "the certificate has expired",
    OWN_RENEW,
    THIRD_TLS},
[D_CERT_EXPIRED_INTERMEDIATE] = {"cert-expired", "intermediate",
    MXS_STEP_CHAIN, E, VERIFY, NULL,
    OWN_RENEW " For an intermediate: install the CA's current intermediate in "
    "the chain file / the Intermediate Certification Authorities store.",
    THIRD_TLS},
[D_CERT_NOT_YET_VALID] = {"cert-not-yet-valid", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "the certificate is not valid yet",
    "check the server's clock, or wait: the certificate was installed before "
    "its start date.",
    THIRD_TLS},
[D_CERT_EXPIRING_SOON] = {"cert-expiring-soon", NULL, MXS_STEP_CHAIN, W, 0,
    "the certificate expires soon (30 days, --expiry-warn)",
    OWN_RENEW,
    "tell their postmaster before it expires; verified-TLS delivery stops on "
    "that date."},
[D_CERT_NAME_MISMATCH] = {"cert-name-mismatch", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "the certificate does not cover the MX host name",
    "get a certificate whose subjectAltName includes {name} (the name the MX "
    "record points at); Exchange: the receive connector FQDN "
    "(`Get-ReceiveConnector | fl Name,Fqdn`) must be in the certificate "
    "enabled for SMTP (Event 12014 otherwise); Postfix: the certificate in "
    "smtpd_tls_chain_files must name myhostname.",
    THIRD_TLS},
[D_CERT_SELF_SIGNED] = {"cert-self-signed", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "self-signed leaf",
    "get a certificate from a public CA (e.g. Let's Encrypt via certbot or, "
    "on Exchange, win-acme / a CA request from `New-ExchangeCertificate`), "
    "install it and enable it for SMTP; opportunistic senders still encrypt, "
    "verifying ones do not deliver.",
    THIRD_TLS},
[D_CERT_UNTRUSTED_ROOT] = {"cert-untrusted-root", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "the chain ends at an untrusted root",
    "a private/internal CA is only trusted inside your organisation: use a "
    "certificate from a public CA on the MX. If the root is public, the "
    "sender's trust store may be outdated (mxscope `set cafile`).",
    THIRD_TLS},
[D_CHAIN_INCOMPLETE] = {"chain-incomplete", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "the intermediate is not sent",
    "send the intermediate(s): Postfix: append them after the certificate in "
    "the file named by smtpd_tls_chain_files (or smtpd_tls_cert_file), "
    "`postfix reload`; Exchange: import the intermediate into the computer's "
    "Intermediate Certification Authorities store (certlm.msc), restart "
    "MSExchangeTransport.",
    THIRD_TLS},
[D_CHAIN_ORDER] = {"chain-order", NULL, MXS_STEP_CHAIN, W, 0,
    "chain sent out of order or with repeats (still verifies)",
    "order the chain file leaf first, then each issuer in turn, each "
    "certificate once (Postfix sends smtpd_tls_chain_files in file order: "
    "key, leaf, intermediates); OpenSSL and Postfix senders still verify "
    "other orders, strict TLS stacks may not.",
    "nothing blocks OpenSSL-based senders (Postfix, Exim with OpenSSL); if a "
    "strict sender fails on it, send this report to their postmaster."},
[D_CHAIN_TOO_LONG] = {"chain-too-long", NULL, MXS_STEP_CHAIN, W, 0,
    "certification path deeper than Postfix verifies by default (9)",
    "shorten the chain: send the leaf and the intermediates up to a widely "
    "trusted root only (Postfix smtpd_tls_chain_files); cross-signed detours "
    "are rarely needed.",
    "a verifying Postfix can raise smtp_tls_scert_verifydepth for {domain} "
    "(or globally); opportunistic delivery is not affected."},
[D_CERT_WEAK_KEY] = {"cert-weak-key", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "RSA key below 2048 bits (or a key verification rejects)",
    "issue a new certificate with an RSA key of 2048 bits or more (or ECDSA "
    "P-256) and install it as for a renewal (Enable-ExchangeCertificate / "
    "smtpd_tls_chain_files).",
    THIRD_TLS},
[D_CERT_WEAK_SIGNATURE] = {"cert-weak-signature", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "signed with SHA-1/MD5",
    "reissue the certificate with SHA-256 or better and install it.",
    THIRD_TLS},
[D_CERT_NOT_SERVER_AUTH] = {"cert-not-server-auth", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "extended key usage without serverAuth",
    "request a certificate for a TLS web/mail server (serverAuth); a client "
    "or S/MIME certificate does not work on an MX.",
    THIRD_TLS},
[D_CERT_VERIFY_FAILED] = {"cert-verify-failed", NULL, MXS_STEP_CHAIN, E,
    VERIFY, "other verification failure (revoked, key usage, bad key)",
    "replace the certificate (a revoked or wrongly constrained certificate "
    "cannot be fixed in place).",
    THIRD_TLS},
/* The expected thumbprint is the operator's own check, not a sender's policy:
 * an error (it drives the exit code) that blocks no sender (blocks 0).  A
 * DANE sender refusing the old key is the DANE verdict's own finding. */
[D_FINGERPRINT_MISMATCH] = {"fingerprint-mismatch", NULL, MXS_STEP_CHAIN, E,
    0, "the served thumbprint is not the expected one",
    OWN_FINGERPRINT, THIRD_FINGERPRINT},
/* The expected thumbprint is a SHA-1: it is Exchange's <new>. */
[D_FINGERPRINT_MISMATCH_SHA1] = {"fingerprint-mismatch", "sha1",
    MXS_STEP_CHAIN, E, 0, NULL,
    OWN_FINGERPRINT " If the expected thumbprint is the renewed certificate, "
    "<new> is {expected}.",
    THIRD_FINGERPRINT},
/* Two certificates (RSA and ECDSA), one renewed and the other forgotten. */
[D_CERT_DUAL_DIFFERS] = {"cert-dual-differs", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "the server's RSA and ECDSA certificates differ; one fails",
    "renew or fix both: Postfix: smtpd_tls_chain_files lists one file per key "
    "type (or smtpd_tls_cert_file and smtpd_tls_eccert_file), `postfix "
    "reload`; Exchange: check every certificate enabled for SMTP "
    "(`Get-ExchangeCertificate | fl Thumbprint,Services,NotAfter`); or "
    "remove the one you do not keep up to date.",
    THIRD_TLS},
[D_CERT_DUAL_DIFFERS_W] = {"cert-dual-differs", "warning", MXS_STEP_CHAIN, W, 0,
    NULL,
    "keep both certificates alike (same names, same CA, renewed together): "
    "Postfix smtpd_tls_chain_files; Exchange: the certificates enabled for SMTP.",
    "nothing urgent: both work today; tell them."},
[D_CHAIN_EMPTY] = {"chain-empty", NULL, MXS_STEP_CHAIN, E, VERIFY,
    "handshake completed with no certificate",
    "configure a certificate.",
    THIRD_TLS},
[D_CHAIN_FAILED] = FALLBACK("chain-failed", NULL, CHAIN, VERIFY, THIRD_TLS,
    "CHAIN failed, no more specific cause"),
/* Stops DANE senders only: the DANE verdict says so, no class is blocked. */
[D_DANE_MISMATCH] = {"dane-mismatch", NULL, MXS_STEP_CHAIN, E, 0,
    "no DNSSEC-secure TLSA record matches the chain sent",
    "publish the TLSA record of the key in use (`3 1 1 {spki}`), and on a "
    "key rollover publish the new record next to the old one, wait two TTLs,"
    " then deploy the certificate; keep both until the old key is gone.",
    "DANE senders (Postfix smtp_tls_security_level = dane) defer mail to "
    "them until the records match: send them this report."},

/* ---- EHLO2 ------------------------------------------------------------ */
[D_EHLO2_REJECTED] = {"ehlo2-rejected", NULL, MXS_STEP_EHLO2, E, ALL,
    "EHLO refused after TLS",
    "the MTA or a proxy mishandles the session after STARTTLS; check its "
    "log.",
    THIRD_TLS},
[D_EHLO2_CAPS_CHANGED] = {"ehlo2-capabilities-changed", NULL, MXS_STEP_EHLO2,
    W, 0, "EHLO keywords differ before/after TLS",
    "usually intended (AUTH only after TLS: Postfix smtpd_tls_auth_only); if "
    "SIZE or 8BITMIME vanish, check the TLS listener's settings or proxy.",
    "informational; nothing to do unless a keyword you need is missing."},
[D_EHLO2_TIMEOUT] = FALLBACK("ehlo2-timeout", NULL, EHLO2, ALL, THIRD_REACH,
    "no EHLO reply after TLS in time"),
[D_EHLO2_FAILED] = FALLBACK("ehlo2-failed", NULL, EHLO2, ALL, THIRD_REACH,
    "EHLO after TLS failed otherwise"),
/* Our TLS library's limit, not the server's fault: the verdicts cannot be
 * evaluated (LOCAL). */
[D_TLS_KEY_UPDATE] = {"tls-key-update-unsupported", NULL, MXS_STEP_EHLO2, E, LOCAL,
    "the server sent a TLS 1.3 KeyUpdate, which our TLS library (mbedTLS 3.6) "
    "cannot follow",
    "nothing to fix: a KeyUpdate is legal (RFC 8446 4.6.3) and OpenSSL-based "
    "senders (Postfix) follow it; check the session with `posttls-finger` or "
    "`openssl s_client -starttls smtp` if in doubt.",
    "nothing to do: the limit is on the side that runs mxscope (Mbed-TLS "
    "issue #10881); your sender (OpenSSL/Postfix, Exchange) carries on."},

/* ---- POLICY: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460), check_policy.c --
 * None blocks the four classes: what the domain publishes changes only the
 * MTA-STS verdict (diag_verdict_mtasts), never opportunistic, required,
 * verified or DANE senders. */
[D_STS_TXT_MISSING] = {"sts-txt-missing", NULL, MXS_STEP_POLICY, W, 0,
    "no MTA-STS record (_mta-sts TXT v=STSv1): senders apply no MTA-STS policy",
    "nothing is broken; to have Gmail, Exchange Online and other MTA-STS senders "
    "require verified TLS to {domain}, publish a policy at "
    "https://mta-sts.{domain}/.well-known/mta-sts.txt (mode testing first) and the "
    "TXT record _mta-sts.{domain} \"v=STSv1; id=YYYYMMDDN\".",
    "nothing to do: mail goes with the sender's own TLS policy."},
[D_STS_TXT_MULTIPLE] = {"sts-txt-multiple", NULL, MXS_STEP_POLICY, W, 0,
    "more than one v=STSv1 record: senders apply no MTA-STS policy",
    "keep exactly one TXT record starting with v=STSv1 at _mta-sts.{domain} "
    "(RFC 8461 3.1: with several, senders act as if there were none).",
    "nothing to do: senders treat the domain as without MTA-STS; tell their "
    "postmaster."},
[D_STS_TXT_INVALID] = {"sts-txt-invalid", NULL, MXS_STEP_POLICY, W, 0,
    "the v=STSv1 record is malformed (id missing or invalid): no MTA-STS policy",
    "publish _mta-sts.{domain} as \"v=STSv1; id=ID\" with an id of 1 to 32 "
    "letters and digits, changed whenever the policy changes.",
    "nothing to do: senders treat the domain as without MTA-STS; tell their "
    "postmaster."},
[D_STS_POLICY_FETCH] = {"sts-policy-fetch", NULL, MXS_STEP_POLICY, E, 0,
    "the MTA-STS policy cannot be fetched as senders fetch it",
    "serve https://mta-sts.{domain}/.well-known/mta-sts.txt with status 200, "
    "Content-Type text/plain, at most 64 KiB, quickly, from a host named "
    "mta-sts.{domain} with A/AAAA records and a publicly trusted certificate; "
    "until it works senders without a cached policy deliver as if there were no "
    "policy, and those with one keep applying the old one.",
    "nothing to do on your side: your MTA retries the fetch; tell their "
    "postmaster (the evidence shows what came back)."},
[D_STS_POLICY_REDIRECT] = {"sts-policy-redirect", NULL, MXS_STEP_POLICY, E, 0,
    "the policy URL answers with a redirect, which senders never follow",
    "serve the policy directly at https://mta-sts.{domain}/.well-known/mta-sts.txt "
    "(RFC 8461 3.3: HTTP redirects must not be followed); a web server's "
    "catch-all redirect to www or HTTPS is the usual cause.",
    "nothing to do: tell their postmaster."},
[D_STS_POLICY_INVALID] = {"sts-policy-invalid", NULL, MXS_STEP_POLICY, E, 0,
    "the MTA-STS policy file is invalid (lines named with their number)",
    "fix the lines named: \"version: STSv1\", \"mode: enforce|testing|none\", "
    "one \"mx: HOST\" line per MX (\"*.\" covers one label), \"max_age: "
    "SECONDS\" (at most 31557600); one field per line, CRLF or LF; then change "
    "the id of _mta-sts.{domain}.",
    "nothing to do: senders ignore an invalid policy; tell their postmaster."},
[D_STS_WEBPKI_INVALID] = {"sts-webpki-invalid", NULL, MXS_STEP_POLICY, E, 0,
    "the policy host's certificate does not validate (PKIX) for mta-sts.DOMAIN",
    "install a certificate from a public CA whose names include "
    "mta-sts.{domain}, valid now, sent with its intermediates, on the policy "
    "host.",
    "nothing to do: senders cannot trust the policy; tell their postmaster."},
[D_STS_MX_NOT_COVERED] = {"sts-mx-not-covered", NULL, MXS_STEP_POLICY, E, 0,
    "an MX host matches no mx pattern of the MTA-STS policy",
    "add an \"mx: {name}\" line (or a \"*.\" pattern covering it) to the policy "
    "and change the id of _mta-sts.{domain}: in mode enforce MTA-STS senders "
    "refuse to deliver to an MX the policy does not list.",
    "mail from MTA-STS senders to that MX is refused (enforce) or reported "
    "(testing); tell their postmaster."},
[D_STS_TESTING] = {"sts-testing", NULL, MXS_STEP_POLICY, W, 0,
    "MTA-STS mode testing: failures are reported (TLS-RPT), not enforced",
    "read the TLS-RPT reports; when they show no failure, switch the policy to "
    "\"mode: enforce\" and change the id of _mta-sts.{domain}.",
    "nothing to do: mail is delivered; the failures named are reported to the "
    "domain."},
[D_TLSRPT_MISSING] = {"tlsrpt-missing", NULL, MXS_STEP_POLICY, W, 0,
    "MTA-STS or DANE is published but no TLS-RPT record: nobody hears of failures",
    "publish _smtp._tls.{domain} TXT \"v=TLSRPTv1; rua=mailto:ADDRESS\" (or an "
    "https: URI) so senders report TLS failures to you (RFC 8460).",
    "nothing to do."},
[D_TLSRPT_INVALID] = {"tlsrpt-invalid", NULL, MXS_STEP_POLICY, W, 0,
    "the TLS-RPT record is malformed or not unique: senders send no reports",
    "keep exactly one TXT record at _smtp._tls.{domain}, starting with "
    "v=TLSRPTv1, with rua= one or more mailto: or https: URIs separated by "
    "commas.",
    "nothing to do."},

/* ---- several probes (compare.c) --------------------------------------- */
/* Filed under the step of the aspect that differs. */
[D_MX_HOSTS_DISAGREE] = {"mx-hosts-disagree", NULL, MXS_STEP_NONE, W, 0,
    "MX hosts/addresses differ (STARTTLS, TLS, certificate)",
    "configure every node the same (Exchange: `Get-ExchangeCertificate` and "
    "`Enable-ExchangeCertificate -Services SMTP` on each server; Postfix: "
    "the same smtpd_tls_chain_files and TLS settings on every host behind "
    "the MX or load balancer).",
    "send them this report listing the addresses."},

/* ---- DANE over time, MX names (check_dane.c) --------------------------- */
/* Warnings about tomorrow: today's DANE verdict is dane-mismatch's. */
[D_DANE_NEXT_KEY] = {"dane-next-key-missing", NULL, MXS_STEP_CHAIN, W, 0,
    "the only DANE-EE key record (3 1 1) and the certificate is due for renewal",
    "before renewing, publish a second record for the next key beside the "
    "current one (keep `3 1 1 {spki}`): make the next key now, publish `3 1 1 "
    "<SHA-256 of its SubjectPublicKeyInfo>` (`openssl pkey -in next.key -pubout "
    "-outform DER | openssl dgst -sha256`), wait two TTLs, then install the "
    "renewed certificate and remove the old record; or renew with the same key "
    "(certbot: its reuse-key option).",
    "nothing to do today: tell them before the certificate expires; DANE "
    "senders defer their mail if the renewal changes the key unannounced."},
[D_DANE_FULL_CERT] = {"dane-full-cert", NULL, MXS_STEP_CHAIN, W, 0,
    "a DANE-EE record of the whole certificate (3 0 x) breaks on every renewal",
    "publish the key's record instead, `3 1 1 {spki}` (it survives a renewal "
    "that keeps the key), wait two TTLs, then remove the 3 0 x record.",
    "nothing to do today: tell them; DANE senders defer their mail after each "
    "renewal until the record is replaced."},
[D_DANE_TA_NOT_ISSUER] = {"dane-ta-not-issuer", NULL, MXS_STEP_CHAIN, W, 0,
    "a DANE-TA record (2 x x) names a CA that did not issue the chain",
    "remove the stale record, or publish the record of the CA that issues "
    "your certificate (`2 0 1` of the intermediate's certificate), and send "
    "that CA's certificate in the chain (RFC 7671 5.2.2).",
    "nothing to do unless no other record matches (dane-mismatch): tell them."},
[D_DANE_DAYS] = {"dane-days", NULL, MXS_STEP_CHAIN, W, 0,
    "--days N: are the TLSA records still satisfied N days from now",
    "publish the records the renewal needs before it happens (the next key's "
    "`3 1 1`, the new CA's `2 x x`), keep `3 1 1 {spki}` while it is served, "
    "and wait two TTLs before switching.",
    "nothing to do today: tell them before the date."},
[D_MX_TARGET_UNDERSCORE] = {"mx-target-underscore", NULL, MXS_STEP_RESOLVE, W, 0,
    "an MX target contains an underscore: not a host name",
    "point the MX at a host name of letters, digits and hyphens ({name} is "
    "not one); a public CA cannot issue a certificate for it.",
    "Postfix delivers to it; if your MTA refuses the name, tell them."},
/* Dual RSA + ECDSA certificates, TLSA records for only one of them: the
 * partner's DANE set-up fails the senders that negotiate the other.  Our
 * handshake's DANE verdict stands (it is what a sender offering ECDSA
 * first gets); a warning naming who else is affected, blocking no class. */
[D_DANE_SECOND_CERT] = {"dane-second-cert-unmatched", NULL, MXS_STEP_CHAIN, W, 0,
    "the server's second (RSA) certificate, which senders that offer only RSA "
    "get, matches no TLSA record",
    "publish a TLSA record for every certificate the server uses: `3 1 1 "
    "{spki}` (the RSA key) beside the record of the ECDSA key, wait two TTLs; "
    "on a key rollover of either certificate publish its next key's record "
    "first. Or stop serving the certificate no record covers (Postfix: "
    "smtpd_tls_chain_files lists one file per key type; Exchange: the "
    "certificates enabled for SMTP).",
    "DANE senders whose TLS offers no ECDSA (RSA only) defer mail to them "
    "while the sender offering ECDSA first delivers: send them this report."},
};

const struct diag_entry *diag_catalog(int *n)
{
    if (n)
        *n = D_COUNT;
    return diag_rows;
}

const struct diag_entry *diag_find_id(const char *id)
{
    for (int i = 0; id && i < D_COUNT; i++)
        if (diag_rows[i].id && !diag_rows[i].variant && !strcmp(diag_rows[i].id, id))
            return &diag_rows[i];
    return NULL;
}

/* ---- advice ------------------------------------------------------------- */

/* The value of {key} (klen bytes), NULL when the key is not ours. */
static const char *var(const struct diag_vars *v, const char *key, size_t klen,
                       char *num, size_t numlen)
{
    static const char *const keys[] = {"domain", "name", "what", "port",
                                       "expected", "spki"};
    size_t k = 0;
    for (; k < sizeof keys / sizeof keys[0]; k++)
        if (strlen(keys[k]) == klen && !memcmp(keys[k], key, klen))
            break;
    switch (k) {
    case 0: return v->domain;
    case 1: return v->name;
    case 2: return v->what;
    case 3: snprintf(num, numlen, "%u", v->port); return num;
    case 4: return v->expected;
    case 5: return v->spki;
    default: return NULL;
    }
}

/* Append tmpl with its {keys} filled, cut at the end of dst like diag_app. */
static void expand(char *dst, size_t cap, const char *tmpl, const struct diag_vars *v)
{
    const char *p = tmpl;
    while (p && *p) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        char num[16];
        const char *val = close ? var(v, open + 1, (size_t)(close - open - 1),
                                      num, sizeof num) : NULL;
        if (!val) {
            /* No (known) key: the text up to and including the brace. */
            size_t n = open ? (size_t)(open - p) + 1 : strlen(p);
            diag_app(dst, cap, "%.*s", (int)n, p);
            p += n;
            continue;
        }
        diag_app(dst, cap, "%.*s%s", (int)(open - p), p, val);
        p = close + 1;
    }
}

void diag_advise(struct mxs_finding *f, const struct diag_entry *e,
                 const struct diag_vars *v)
{
    static const struct diag_vars none;
    if (!v)
        v = &none;
    APP(f->advice, "If it is your server: ");
    expand(f->advice, sizeof f->advice, e->advice_own, v);
    APP(f->advice, DIAG_ADVICE_THIRD);
    expand(f->advice, sizeof f->advice, e->advice_third, v);
}
