"""challenges.py: dns-01, tls-alpn-01, wildcards, IP identifiers, CAA and
denied address ranges, checked against a running hearth (docs/challenges.md),
each failure for its exact problem type and detail. Run by the test_*.sh
scripts with Debian's /usr/bin/python3:

    challenges.py SUITE BASE_URL ROOT_CERT WORK_DIR DNS_MANAGEMENT_URL [BASE_URL_2 ROOT_CERT_2]

SUITE is one of
  dns01        wrong, missing, several and many TXT records, CNAME
               delegation, chains of 10 and 11 CNAMEs and a CNAME loop, the
               shape of wildcard authorizations, a wildcard plus apex
               certificate (raw JWS client)
  tlsalpn01    certificates without the acmeIdentifier extension, with the
               wrong digest, non-critical, for other names, not
               self-signed; a server without acme-tls/1, a refused
               connection; IP identifiers validated under their reverse-DNS
               names (raw JWS client and a Python TLS server offering
               acme-tls/1 on port 5001)
  identifiers  IP certificates for 127.0.0.1 and ::1 by http-01 with
               python3-acme and its standalone http-01 server
  policy       CAA (hearth started with --caa-identity ca.corp.internal) and
               validation toward denied ranges: the default list on
               BASE_URL, --validation-deny 127.0.0.2/32 on BASE_URL_2 (a
               second hearth, with its own CA)

hearth resolves names through pebble-challtestsrv (every name 127.0.0.1
unless the test says otherwise), validates http-01 on port 5002 and
tls-alpn-01 on port 5001 of the resolved address.
"""
import datetime
import ipaddress
import json
import os
import re
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import (URN, Checks, Client, DnsAdmin, Key, Responder,  # noqa: E402
                      TlsAlpnResponder, alpn_cert, b64, openssl_verify,
                      reverse_dns_name, split_pem_chain)

import josepy as jose  # noqa: E402
from acme import challenges, crypto_util, messages, standalone  # noqa: E402
from acme import client as acme_client  # noqa: E402
from acme import errors as acme_errors  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.x509.oid import ExtensionOID, NameOID  # noqa: E402

HTTP01_PORT = 5002
TLSALPN01_PORT = 5001

SUITE, BASE, ROOT, WORK, DNS_MGMT = sys.argv[1:6]
BASE2, ROOT2 = sys.argv[6:8] if len(sys.argv) > 7 else (None, None)
T = Checks()
C = Client(BASE, ROOT)
dns = DnsAdmin(DNS_MGMT)


def show(r, client=None):
    return (f"request: {(client or C).last}\nresponse: {r.status_code} "
            f"{r.headers.get('Content-Type')}\n{r.text[:800]}")


def section(title):
    print(f"-- {title}", flush=True)


def ipv6_loopback():
    """::1 can be bound here (containers may run without IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def new_account(client=None):
    r, acct = (client or C).new_account(Key("ES256"))
    if acct is None:
        raise SystemExit(f"newAccount failed: {r.status_code} {r.text}")
    return acct


def order(acct, names, kind="dns", client=None):
    """newOrder; (order URL, order JSON, authorization URLs)."""
    c = client or C
    r = c.new_order(acct, names, kind)
    if r.status_code != 201:
        raise AssertionError(f"newOrder {names}: {r.status_code} {r.text}")
    return r.headers["Location"], r.json(), r.json()["authorizations"]


def types_of(az):
    return sorted(c["type"] for c in az.get("challenges", []))


class Pending:
    """A challenge answered and not yet decided, checked later; posted is
    the answer to the POST that started its validation."""

    def __init__(self, what, acct, order_url, authz_url, ch, client=None, posted=None):
        self.what, self.acct, self.order_url = what, acct, order_url
        self.authz_url, self.ch = authz_url, ch
        self.c = client or C
        self.posted = posted


def answer(what, acct, names, kind, prepare, ident_kind="dns", client=None):
    """Orders names (one authorization), puts the answer in place with
    prepare(challenge) and responds to the challenge of this kind."""
    c = client or C
    o_url, _, azs = order(acct, names, ident_kind, c)
    ch = c.challenge(c.get(azs[0], acct).json(), kind)
    if ch is None:
        raise AssertionError(f"{what}: no {kind} challenge offered")
    prepare(ch)
    _, posted = c.respond(acct, azs[0], kind)
    return Pending(what, acct, o_url, azs[0], ch, c, posted)


def expect_valid(p):
    final, chall = p.c.decided(p.acct, p.authz_url, p.ch["url"])
    ok = T.check(f"{p.what}: the authorization becomes valid",
                 final.status_code == 200 and final.json().get("status") == "valid",
                 show(final, p.c) + "\nchallenge: " + json.dumps(chall))
    T.check(f"{p.what}: ... and its challenge, with a validated time",
            chall.get("status") == "valid" and "validated" in chall and "error" not in chall,
            json.dumps(chall))
    return ok


def expect_invalid(p, typ, detail):
    """The challenge, its authorization and its order end invalid with the
    problem typ; detail is the exact text (str) or a pattern it must match
    (re.Pattern)."""
    final, chall = p.c.decided(p.acct, p.authz_url, p.ch["url"])
    T.check(f"{p.what}: the authorization becomes invalid",
            final.status_code == 200 and final.json().get("status") == "invalid",
            show(final, p.c))
    err = chall.get("error") or {}
    T.check(f"{p.what}: the challenge is invalid with {typ}",
            chall.get("status") == "invalid" and err.get("type") == URN + typ, json.dumps(chall))
    got = err.get("detail", "")
    if isinstance(detail, str):
        T.check(f"{p.what}: detail is {detail!r}", got == detail, f"detail: {got!r}")
    else:
        T.check(f"{p.what}: detail matches {detail.pattern!r}", detail.search(got),
                f"detail: {got!r}")
    o = p.c.get(p.order_url, p.acct).json()
    oerr = o.get("error") or {}
    ident = final.json().get("identifier") if final.status_code == 200 else None
    T.check(f"{p.what}: the order is invalid with the same problem for the identifier",
            o.get("status") == "invalid" and oerr.get("type") == URN + typ
            and oerr.get("detail") == got and oerr.get("identifier") == ident, json.dumps(o))
    return chall


def san_of(cert):
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return [], []
    return (sorted(ext.value.get_values_for_type(x509.DNSName)),
            sorted(str(a) for a in ext.value.get_values_for_type(x509.IPAddress)))


def cn_of(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def check_cert(what, got, dns_names=(), ips=()):
    """The chain verifies against the root alone; the leaf names exactly
    these DNS names and addresses."""
    ok, out = openssl_verify(ROOT, got["chain"], WORK, re.sub(r"[^a-z0-9]+", "-", what.lower()))
    T.check(f"{what}: the certificate verifies against the root", ok, out)
    d, i = san_of(got["leaf"])
    T.check(f"{what}: its subjectAltName is DNS {sorted(dns_names)} and IP {sorted(ips)}",
            d == sorted(dns_names) and i == sorted(str(ipaddress.ip_address(a)) for a in ips),
            f"DNS {d}, IP {i}")


def run(what, fn, *args):
    """Runs one step; an unexpected exception is a failed check."""
    try:
        return fn(*args)
    except (AssertionError, KeyError, ValueError, OSError) as e:
        T.check(what, False, f"{type(e).__name__}: {e}")
        return None


# ---------------------------------------------------------------------------
def suite_dns01():
    A = new_account()
    web = Responder(HTTP01_PORT)

    section("dns-01: CNAME chains, wrong and missing records")
    # A CNAME loop is a DNS failure hearth retries (2 s, then 4 s): started
    # first, checked last.
    dns.set_cname("_acme-challenge.loop.corp.internal", "loop-b.corp.internal")
    dns.set_cname("loop-b.corp.internal", "_acme-challenge.loop.corp.internal")
    loop = answer("a CNAME loop at _acme-challenge", A, ["loop.corp.internal"], "dns-01",
                  lambda ch: None)
    T.check("the answer to the challenge POST is the challenge, processing, with Retry-After",
            loop.posted.json().get("status") == "processing"
            and loop.posted.json().get("url") == loop.ch["url"]
            and loop.posted.headers.get("Retry-After", "").isdigit(), show(loop.posted))

    # CNAME chains: hearth follows up to 10 aliases, the 11th is one too many
    def chain(name, hops, acct):
        def prepare(ch):
            at = "_acme-challenge." + name
            for i in range(1, hops + 1):
                dns.set_cname(at, f"hop{i}.{name}")
                at = f"hop{i}.{name}"
            dns.set_txt(at, C.dns01_value(acct, ch["token"]))
        return prepare
    chain11 = answer("a chain of 11 CNAMEs to the TXT record", A, ["chain11.corp.internal"],
                     "dns-01", chain("chain11.corp.internal", 11, A))
    chain10 = answer("a chain of 10 CNAMEs to the TXT record", A, ["chain10.corp.internal"],
                     "dns-01", chain("chain10.corp.internal", 10, A))
    expect_valid(chain10)

    def wrong(ch):
        dns.set_txt("_acme-challenge.wrongtxt.corp.internal",
                    b64(os.urandom(32)))          # a digest, of something else
    p = answer("a TXT record with a wrong value", A, ["wrongtxt.corp.internal"], "dns-01", wrong)
    expect_invalid(p, "incorrectResponse", "dns-01: none of the TXT records at "
                   "_acme-challenge.wrongtxt.corp.internal holds the expected value (1 found)")

    def key_auth_itself(ch):
        dns.set_txt("_acme-challenge.rawkeyauth.corp.internal",
                    C.key_authorization(A, ch["token"]))
    p = answer("a TXT record holding the key authorization, not its digest", A,
               ["rawkeyauth.corp.internal"], "dns-01", key_auth_itself)
    expect_invalid(p, "incorrectResponse", "dns-01: none of the TXT records at "
                   "_acme-challenge.rawkeyauth.corp.internal holds the expected value (1 found)")

    p = answer("no TXT record", A, ["notxt.corp.internal"], "dns-01", lambda ch: None)
    expect_invalid(p, "unauthorized", "dns-01: no TXT record at "
                   "_acme-challenge.notxt.corp.internal")

    section("dns-01 successes")

    def several(ch):
        name = "_acme-challenge.several.corp.internal"
        dns.set_txt(name, b64(os.urandom(32)))
        dns.set_txt(name, C.dns01_value(A, ch["token"]))
        dns.set_txt(name, "unrelated text")
    p = answer("one matching TXT record among three", A, ["several.corp.internal"], "dns-01",
               several)
    expect_valid(p)

    def many(ch):
        name = "_acme-challenge.manytxt.corp.internal"
        for _ in range(24):
            dns.set_txt(name, b64(os.urandom(32)))
        dns.set_txt(name, C.dns01_value(A, ch["token"]))
    p = answer("the matching TXT record last of 25 (an answer of over 2 KB)", A,
               ["manytxt.corp.internal"], "dns-01", many)
    expect_valid(p)

    # delegation: the record lives in a zone the issuing automation may update
    dns.set_cname("_acme-challenge.db1.corp.internal", "db1.acme.corp.internal")
    p = answer("a TXT record behind a CNAME (delegated _acme-challenge)", A,
               ["db1.corp.internal"], "dns-01",
               lambda ch: dns.set_txt("db1.acme.corp.internal", C.dns01_value(A, ch["token"])))
    expect_valid(p)

    section("wildcards")
    o_url, o, azs = order(A, ["*.wild.corp.internal", "wild.corp.internal"])
    authzs = {u: C.get(u, A).json() for u in azs}
    wild = [u for u, az in authzs.items() if az.get("wildcard") is True]
    apex = [u for u, az in authzs.items() if "wildcard" not in az]
    T.check("an order for *.wild and wild has two authorizations, one with wildcard true",
            len(azs) == 2 and len(wild) == 1 and len(apex) == 1, json.dumps(authzs))
    if len(wild) == 1 and len(apex) == 1:
        wz, az = authzs[wild[0]], authzs[apex[0]]
        T.check("the wildcard authorization names the base domain",
                wz.get("identifier") == {"type": "dns", "value": "wild.corp.internal"},
                json.dumps(wz))
        T.check("the wildcard authorization offers dns-01 only (no http-01 URL to POST to)",
                types_of(wz) == ["dns-01"], json.dumps(wz))
        T.check("the apex authorization offers http-01, dns-01 and tls-alpn-01",
                types_of(az) == ["dns-01", "http-01", "tls-alpn-01"], json.dumps(az))
        final, _, _ = C.solve(A, apex[0], web)
        T.check("http-01 validates the apex",
                final.status_code == 200 and final.json().get("status") == "valid", show(final))
        T.check("... and leaves the wildcard authorization pending",
                C.get(wild[0], A).json().get("status") == "pending")
        T.check("... and the order pending", C.get(o_url, A).json().get("status") == "pending")
        _, o2, azs2 = order(A, ["*.wild.corp.internal"])
        wz2 = C.get(azs2[0], A).json()
        T.check("a new wildcard order does not reuse the apex's valid authorization",
                o2.get("status") == "pending" and azs2[0] != apex[0]
                and wz2.get("wildcard") is True and types_of(wz2) == ["dns-01"], json.dumps(wz2))
        ch = C.challenge(wz, "dns-01")
        dns.set_txt("_acme-challenge.wild.corp.internal", C.dns01_value(A, ch["token"]))
        C.respond(A, wild[0], "dns-01")
        p = Pending("dns-01 for *.wild.corp.internal", A, o_url, wild[0], ch)
        if expect_valid(p):
            got = run("finalizing the wildcard and apex order", C.finish, A, o_url,
                      ["*.wild.corp.internal", "wild.corp.internal"])
            if got:
                check_cert("wildcard plus apex", got, ["*.wild.corp.internal",
                                                       "wild.corp.internal"])

    section("CNAME loop and overlong chain (retried)")
    expect_invalid(loop, "dns", re.compile(
        r"^TXT lookup of _acme-challenge\.loop\.corp\.internal: CNAME loop at "))
    expect_invalid(chain11, "dns", "TXT lookup of _acme-challenge.chain11.corp.internal: "
                   "too many CNAMEs (more than 10)")
    web.close()


# ---------------------------------------------------------------------------
def suite_tlsalpn01():
    A = new_account()
    tls = TlsAlpnResponder(TLSALPN01_PORT)
    v6 = ipv6_loopback()
    tls6 = TlsAlpnResponder(TLSALPN01_PORT, "::1") if v6 else None

    def serve(name, acct=None, alpn=("acme-tls/1",), **kw):
        def prepare(ch):
            host = name
            try:
                host = reverse_dns_name(name)
            except ValueError:
                pass
            crt, key = alpn_cert(WORK, name, C.key_authorization(acct or A, ch["token"]), **kw)
            for t in (tls, tls6):
                if t is not None:
                    t.serve(host, crt, key, alpn)
        return prepare

    other_ca = alpn_cert(WORK, "other-ca.corp.internal", extension=False,
                         subject="/CN=another issuer")

    section("tls-alpn-01 certificates")
    # nothing listens on 127.0.0.3:5001: a connection failure, retried
    # (2 s, then 4 s): started first, checked last
    dns.add_a("refused.corp.internal", ["127.0.0.3"])
    refused = answer("tls-alpn-01 toward an address where nothing listens", A,
                     ["refused.corp.internal"], "tls-alpn-01", lambda ch: None)
    cases = [
        ("a certificate without the acmeIdentifier extension", "noext.corp.internal",
         {"extension": False}, "no acmeIdentifier extension"),
        ("an acmeIdentifier with the wrong digest", "wrongdigest.corp.internal",
         {"digest": os.urandom(32)},
         "acmeIdentifier does not hold the SHA-256 of the key authorization"),
        ("a non-critical acmeIdentifier", "noncritical.corp.internal", {"critical": False},
         "acmeIdentifier extension is not critical"),
        ("a certificate for another name", "othername.corp.internal",
         {"san": "DNS:elsewhere.corp.internal"},
         "subjectAltName must hold exactly the name othername.corp.internal"),
        ("a certificate for the name and another", "twonames.corp.internal",
         {"san": "DNS:twonames.corp.internal,DNS:elsewhere.corp.internal"},
         "subjectAltName must hold exactly the name twonames.corp.internal"),
        ("a certificate signed by another certificate", "notselfsigned.corp.internal",
         {"issuer": other_ca}, "certificate is not self-signed (issuer differs from subject)"),
    ]
    pend = [(answer(what, A, [name], "tls-alpn-01", serve(name, **kw)), name, why)
            for what, name, kw, why in cases]
    good = answer("a correct tls-alpn-01 certificate", A, ["good.corp.internal"], "tls-alpn-01",
                  serve("good.corp.internal"))
    noalpn = answer("a server that does not agree to acme-tls/1", A, ["noalpn.corp.internal"],
                    "tls-alpn-01", serve("noalpn.corp.internal", alpn=("http/1.1",)))
    for p, name, why in pend:
        expect_invalid(p, "incorrectResponse", f"tls-alpn-01: certificate from {name}: {why}")
    expect_invalid(noalpn, "tls", "tls-alpn-01: noalpn.corp.internal did not negotiate ALPN "
                   "acme-tls/1")
    if expect_valid(good):
        got = run("finalizing good.corp.internal", C.finish, A, good.order_url,
                  ["good.corp.internal"])
        if got:
            check_cert("tls-alpn-01 for good.corp.internal", got, ["good.corp.internal"])
    seen = tls.names_seen()
    T.check("every handshake sent SNI = the name validated",
            set(seen) == {n for _, n, _ in pend} | {"good.corp.internal", "noalpn.corp.internal"},
            repr(seen))

    section("tls-alpn-01 for IP identifiers (RFC 8738 §6)")
    ips = ["127.0.0.1"] + (["::1"] if v6 else [])
    for ip in ips:
        o_url, o, azs = order(A, [ip], "ip")
        az = C.get(azs[0], A).json()
        T.check(f"an order for {ip} has an ip identifier",
                o.get("identifiers") == [{"type": "ip", "value": ip}], json.dumps(o))
        T.check(f"the {ip} authorization offers http-01 and tls-alpn-01, no dns-01",
                types_of(az) == ["http-01", "tls-alpn-01"], json.dumps(az))
        ch = C.challenge(az, "tls-alpn-01")
        serve(ip)(ch)
        C.respond(A, azs[0], "tls-alpn-01")
        p = Pending(f"tls-alpn-01 for {ip}", A, o_url, azs[0], ch)
        if expect_valid(p):
            got = run(f"finalizing {ip}", C.finish, A, o_url, [], [ip])
            if got:
                check_cert(f"tls-alpn-01 for {ip}", got, [], [ip])
        responder = tls if ":" not in ip else tls6
        T.check(f"the {ip} handshake reached {ip} with SNI {reverse_dns_name(ip)}",
                reverse_dns_name(ip) in responder.names_seen(), repr(responder.names_seen()))
    if not v6:
        print("skip: ::1 cannot be bound here (no IPv6 loopback): tls-alpn-01 for ::1 "
              "not checked", flush=True)
    B = new_account()       # A's authorization for 127.0.0.1 is valid now
    p = answer("an IP certificate naming the address as a DNS name", B, ["127.0.0.1"],
               "tls-alpn-01", serve("127.0.0.1", B, san="DNS:127.0.0.1"), ident_kind="ip")
    expect_invalid(p, "incorrectResponse", "tls-alpn-01: certificate from 127.0.0.1: "
                   "subjectAltName must hold exactly the IP address 127.0.0.1")

    section("connection refused (retried)")
    expect_invalid(refused, "connection", "connection refused by 127.0.0.3:5001")
    tls.close()
    if tls6:
        tls6.close()


# ---------------------------------------------------------------------------
class RecordingHandler(standalone.HTTP01RequestHandler):
    """python3-acme's http-01 handler, noting which address each request
    came from."""
    peers = []

    def handle_simple_http_resource(self):
        RecordingHandler.peers.append((self.client_address[0], self.headers.get("Host")))
        super().handle_simple_http_resource()


def suite_identifiers():
    section("IP certificates with python3-acme")
    key = Key("ES256")
    net = acme_client.ClientNetwork(key.jose(), alg=jose.ES256, verify_ssl=ROOT,
                                    user_agent="hearth-e2e")
    net.session.trust_env = False
    lib = acme_client.ClientV2(messages.Directory.from_json(
        net.get(BASE + "/directory").json()), net)
    lib.new_account(messages.NewRegistration.from_data(email="ip@corp.internal",
                                                       terms_of_service_agreed=True))
    v6 = ipv6_loopback()
    # (address, DNS names): mixed.corp.internal resolves to 127.0.0.1 too
    wanted = [("127.0.0.1", [])] + ([("::1", [])] if v6 else [])
    wanted.append(("127.0.0.1", ["mixed.corp.internal"]))
    for ip, names in wanted:
        what = f"python3-acme for {ip}" + (f" and {names[0]}" if names else "")
        cert_key = Key("ES256")
        csr_pem = crypto_util.make_csr(cert_key.pem(), names or None,
                                       ipaddrs=[ipaddress.ip_address(ip)])
        RecordingHandler.peers = []
        server = None
        try:
            orderr = lib.new_order(csr_pem)
            ids = sorted((i.typ.name, i.value) for i in orderr.body.identifiers)
            T.check(f"{what}: the order has the identifiers "
                    f"{[('ip', ip)] + [('dns', n) for n in names]}",
                    ids == sorted([("ip", ip)] + [("dns", n) for n in names]), repr(ids))
            resources, answers = set(), []
            for authzr in orderr.authorizations:
                kinds = sorted(c.chall.typ for c in authzr.body.challenges)
                reused = authzr.body.status == messages.STATUS_VALID
                if authzr.body.identifier.typ == messages.IDENTIFIER_IP and not reused:
                    T.check(f"{what}: the {ip} authorization offers http-01 and tls-alpn-01",
                            kinds == ["http-01", "tls-alpn-01"], repr(kinds))
                elif authzr.body.identifier.typ == messages.IDENTIFIER_IP:
                    T.check(f"{what}: the reused {ip} authorization lists the http-01 "
                            "challenge that validated it", kinds == ["http-01"], repr(kinds))
                if reused:
                    continue        # validated by an earlier order of this account
                chb = next(c for c in authzr.body.challenges
                           if isinstance(c.chall, challenges.HTTP01))
                resp, validation = chb.response_and_validation(key.jose())
                resources.add(standalone.HTTP01RequestHandler.HTTP01Resource(
                    chall=chb.chall, response=resp, validation=validation))
                answers.append((chb, resp))
            # python3-acme's own http-01 server, on the identifier's address
            # family only: hearth must connect to the address itself
            server = standalone.HTTP01Server((ip, HTTP01_PORT), resources, ipv6=":" in ip)
            server.RequestHandlerClass = RecordingHandler.partial_init(
                simple_http_resources=resources, timeout=30)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            for chb, resp in answers:
                lib.answer_challenge(chb, resp)
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
            orderr = lib.poll_and_finalize(orderr, deadline)
        except (messages.Error, acme_errors.Error, AssertionError, OSError) as e:
            T.check(f"{what}: issuance", False, f"{type(e).__name__}: {e}")
            continue
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
        chain = split_pem_chain(orderr.fullchain_pem)
        leaf = x509.load_pem_x509_certificate(chain[0].encode())
        check_cert(what, {"chain": chain, "leaf": leaf}, names, [ip])
        T.check(f"{what}: no DNS name or common name holds the address",
                all(ip not in v and str(ipaddress.ip_address(ip)) not in v
                    for v in san_of(leaf)[0] + cn_of(leaf)),
                f"SAN {san_of(leaf)}, CN {cn_of(leaf)}")
        T.check(f"{what}: the certificate is for python3-acme's key",
                leaf.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
                == cert_key.priv.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        if not names:
            peers = RecordingHandler.peers
            T.check(f"{what}: hearth fetched the challenge from {ip} itself",
                    bool(peers) and all(ipaddress.ip_address(a.split("%")[0]) ==
                                        ipaddress.ip_address(ip) for a, _ in peers), repr(peers))
            # RFC 8555 §8.3 and RFC 7230 §5.4: Host is the address, an IPv6
            # one in brackets, with the port when it is not 80
            host_hdr = f"[{ip}]" if ":" in ip else ip
            T.check(f"{what}: with Host {host_hdr}:{HTTP01_PORT}",
                    bool(peers) and all(h == f"{host_hdr}:{HTTP01_PORT}" for _, h in peers),
                    repr(peers))
    if not v6:
        print("skip: ::1 cannot be bound here (no IPv6 loopback): the ::1 certificate "
              "is not checked", flush=True)


# ---------------------------------------------------------------------------
def suite_policy():
    A = new_account()
    B = new_account()
    web = Responder(HTTP01_PORT)

    def http01(acct=None):
        acct = acct or A
        return lambda ch: web.serve(ch["token"], C.key_authorization(acct, ch["token"]))

    def txt(name, acct=None):
        acct = acct or A
        return lambda ch: dns.set_txt("_acme-challenge." + name, C.dns01_value(acct, ch["token"]))

    section("CAA (hearth's identity: ca.corp.internal)")
    # a CAA lookup that fails is a DNS problem, retried, never a pass:
    # started first, checked last
    dns.set_servfail("caa-servfail.corp.internal")
    caa_sf = answer("a CAA lookup answered SERVFAIL", A, ["caa-servfail.corp.internal"], "dns-01",
                    txt("caa-servfail.corp.internal"))

    dns.add_caa("caa-other.corp.internal", ("issue", "otherca.example"))
    p = answer("CAA naming another CA", A, ["caa-other.corp.internal"], "http-01", http01())
    expect_invalid(p, "caa", "CAA records for caa-other.corp.internal do not allow this CA "
                   "(property issue) for this account and method")

    dns.add_caa("caa-tree.corp.internal", ("issue", "otherca.example"))
    p = answer("CAA at the parent naming another CA", A, ["www.caa-tree.corp.internal"],
               "http-01", http01())
    expect_invalid(p, "caa", "CAA records for www.caa-tree.corp.internal do not allow this CA "
                   "(property issue) for this account and method")

    dns.set_cname("caa-alias.corp.internal", "caa-target.corp.internal")
    dns.add_caa("caa-target.corp.internal", ("issue", "otherca.example"))
    p = answer("CAA reached through a CNAME naming another CA", A, ["caa-alias.corp.internal"],
               "http-01", http01())
    expect_invalid(p, "caa", "CAA records for caa-alias.corp.internal do not allow this CA "
                   "(property issue) for this account and method")

    dns.add_caa("caa-ours.corp.internal", ("issue", "otherca.example"),
                ("issue", "ca.corp.internal"))
    p = answer("CAA naming hearth among others", A, ["caa-ours.corp.internal"], "http-01",
               http01())
    if expect_valid(p):
        got = run("finalizing caa-ours.corp.internal", C.finish, A, p.order_url,
                  ["caa-ours.corp.internal"])
        if got:
            check_cert("CAA naming hearth", got, ["caa-ours.corp.internal"])

    dns.add_caa("caa-method.corp.internal",
                ("issue", "ca.corp.internal; validationmethods=dns-01"))
    p = answer("CAA allowing hearth by dns-01 only, answered by http-01", A,
               ["caa-method.corp.internal"], "http-01", http01())
    expect_invalid(p, "caa", "CAA records for caa-method.corp.internal do not allow this CA "
                   "(property issue) for this account and method")
    p = answer("CAA allowing hearth by dns-01 only, answered by dns-01", A,
               ["caa-method.corp.internal"], "dns-01", txt("caa-method.corp.internal"))
    expect_valid(p)

    dns.add_caa("caa-account.corp.internal", ("issue", f"ca.corp.internal; accounturi={A.url}"))
    p = answer("CAA bound to another account's URL", B, ["caa-account.corp.internal"], "http-01",
               http01(B))
    expect_invalid(p, "caa", "CAA records for caa-account.corp.internal do not allow this CA "
                   "(property issue) for this account and method")
    p = answer("CAA bound to this account's URL", A, ["caa-account.corp.internal"], "http-01",
               http01())
    expect_valid(p)

    dns.add_caa("caa-wild.corp.internal", ("issue", "ca.corp.internal"),
                ("issuewild", "otherca.example"))
    p = answer("issuewild naming another CA, for a wildcard", A, ["*.caa-wild.corp.internal"],
               "dns-01", txt("caa-wild.corp.internal"))
    expect_invalid(p, "caa", "CAA records for caa-wild.corp.internal do not allow this CA "
                   "(property issuewild) for this account and method")
    p = answer("issuewild naming another CA, for the apex", A, ["caa-wild.corp.internal"],
               "http-01", http01())
    expect_valid(p)

    section("denied address ranges")
    # Traps on 127.0.0.2 answer correctly: were hearth to connect, the
    # validation would pass.
    trap_web = Responder(HTTP01_PORT, "127.0.0.2")
    trap_tls = TlsAlpnResponder(TLSALPN01_PORT, "127.0.0.2")
    D = Client(BASE2, ROOT2)
    AD = new_account(D)

    def trap_http01(acct):
        def prepare(ch):
            body = D.key_authorization(acct, ch["token"])
            web.serve(ch["token"], body)
            trap_web.serve(ch["token"], body)
        return prepare

    def trap_tlsalpn01(name, acct):
        def prepare(ch):
            crt, key = alpn_cert(WORK, name, D.key_authorization(acct, ch["token"]))
            trap_tls.serve(name, crt, key)
        return prepare

    dns.add_a("denied.corp.internal", ["127.0.0.2"])
    detail = "address 127.0.0.2 is in denied range 127.0.0.2/32"
    p = answer("http-01 toward a name in --validation-deny 127.0.0.2/32", AD,
               ["denied.corp.internal"], "http-01", trap_http01(AD), client=D)
    expect_invalid(p, "connection", detail)
    p = answer("tls-alpn-01 toward a name in --validation-deny 127.0.0.2/32", AD,
               ["denied.corp.internal"], "tls-alpn-01", trap_tlsalpn01("denied.corp.internal", AD),
               client=D)
    expect_invalid(p, "connection", detail)
    p = answer("http-01 for the IP identifier 127.0.0.2 (denied)", AD, ["127.0.0.2"], "http-01",
               trap_http01(AD), ident_kind="ip", client=D)
    expect_invalid(p, "connection", detail)
    T.check("nothing connected to the http-01 trap on 127.0.0.2", trap_web.peers == [],
            repr(trap_web.peers))
    T.check("nothing connected to the tls-alpn-01 trap on 127.0.0.2",
            trap_tls.names_seen() == [], repr(trap_tls.names_seen()))
    dns.add_a("halfdenied.corp.internal", ["127.0.0.2", "127.0.0.1"])
    p = answer("http-01 toward a name with a denied and an allowed address", AD,
               ["halfdenied.corp.internal"], "http-01", trap_http01(AD), client=D)
    if expect_valid(p):
        T.check("... fetched from the allowed address only",
                any(path.endswith(p.ch["token"]) for path, _ in web.peers)
                and not any(path.endswith(p.ch["token"]) for path, _ in trap_web.peers),
                repr(web.peers) + repr(trap_web.peers))

    dns.add_a("linklocal.corp.internal", ["169.254.1.1"])
    ll = "address 169.254.1.1 is in denied range 169.254.0.0/16"
    p = answer("http-01 toward a name resolving to 169.254.1.1 (the default list)", A,
               ["linklocal.corp.internal"], "http-01", http01())
    expect_invalid(p, "connection", ll)
    p = answer("tls-alpn-01 toward a name resolving to 169.254.1.1 (the default list)", A,
               ["linklocal.corp.internal"], "tls-alpn-01", lambda ch: None)
    expect_invalid(p, "connection", ll)
    p = answer("http-01 for the IP identifier 169.254.1.1 (the default list)", A,
               ["169.254.1.1"], "http-01", http01(), ident_kind="ip")
    expect_invalid(p, "connection", ll)
    dns.add_a("linklocal2.corp.internal", ["169.254.1.1", "169.254.1.2"])
    p = answer("http-01 toward a name whose every address is link-local", A,
               ["linklocal2.corp.internal"], "http-01", http01())
    expect_invalid(p, "connection", "every address of linklocal2.corp.internal is denied: " + ll)
    # an IPv4-mapped address is one IPv4 address in another spelling:
    # refused at newOrder, so no certificate or check ever sees it
    r = C.new_order(A, ["::ffff:169.254.1.1"], "ip")
    T.check("newOrder for the IPv4-mapped identifier ::ffff:169.254.1.1 is refused",
            r.status_code == 400 and r.json().get("type") == URN + "rejectedIdentifier"
            and "IPv4-mapped" in r.json().get("detail", ""), show(r, C))
    p = answer("http-01 for the IP identifier fe80::1 (the default list)", A, ["fe80::1"],
               "http-01", http01(), ident_kind="ip")
    expect_invalid(p, "connection", "address fe80::1 is in denied range fe80::/10")

    def redirect_to_linklocal(ch):
        web.redirect(ch["token"], f"http://linklocal.corp.internal:{HTTP01_PORT}"
                     f"/.well-known/acme-challenge/{ch['token']}")
    p = answer("an http-01 redirect to a name resolving to 169.254.1.1", A,
               ["redirect.corp.internal"], "http-01", redirect_to_linklocal)
    expect_invalid(p, "connection", ll)
    trap_web.close()
    trap_tls.close()

    section("CAA lookup failure (retried)")
    expect_invalid(caa_sf, "dns", re.compile(
        r"^CAA lookup for caa-servfail\.corp\.internal failed: CAA query for "
        r"caa-servfail\.corp\.internal: "))
    web.close()


SUITES = {"dns01": suite_dns01, "tlsalpn01": suite_tlsalpn01,
          "identifiers": suite_identifiers, "policy": suite_policy}

if __name__ == "__main__":
    try:
        SUITES[SUITE]()
    except AssertionError as e:
        T.check(f"suite {SUITE} ran to its end", False, str(e))
    sys.exit(T.done())
