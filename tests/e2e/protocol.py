"""protocol.py: RFC 8555 rules checked against a running hearth, one request
at a time, each answer checked for its exact HTTP status and problem type.
Run by test_protocol.sh with Debian's /usr/bin/python3:

    protocol.py BASE_URL ROOT_CERT HTTP01_PORT WORK_DIR DNS_MANAGEMENT_URL

hearth must validate http-01 on HTTP01_PORT through pebble-challtestsrv
answering 127.0.0.1 for every name (its management API at
DNS_MANAGEMENT_URL makes a few names fail); this script serves the
challenge files itself.
"""
import datetime
import ipaddress
import json
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import (ADVERTISED_ALGS, JOSE, PROBLEM, URN, Checks, Client, Key,  # noqa: E402
                      Responder, b64, b64d, hmac_sha256, make_csr, openssl_verify,
                      raw_post, split_pem_chain)

import josepy as jose  # noqa: E402
import OpenSSL.crypto  # noqa: E402
from acme import challenges  # noqa: E402
from acme import client as acme_client  # noqa: E402
from acme import errors as acme_errors  # noqa: E402
from acme import messages  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: E402

BASE, ROOT, HTTP01_PORT, WORK, DNS_MGMT = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                           sys.argv[4], sys.argv[5])
PORT = int(BASE.rsplit(":", 1)[1])
C = Client(BASE, ROOT)
T = Checks()
web = Responder(HTTP01_PORT)


def show(r):
    return (f"request: {C.last}\nresponse: {r.status_code} "
            f"{r.headers.get('Content-Type')}\n{r.text[:600]}")


def status(name, r, code):
    """A success answer with this status (and, to a POST, a nonce)."""
    why = "" if r.status_code == code else f"expected {code}"
    if not why and r.request.method == "POST" and not r.headers.get("Replay-Nonce"):
        why = "no Replay-Nonce on the answer to a POST"
    return T.check(name, not why, why + "\n" + show(r))


def problem(name, r, code, typ, post=True):
    """A problem document (RFC 7807) of this ACME type with this status."""
    why = []
    if r.status_code != code:
        why.append(f"status {r.status_code}, expected {code}")
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    if ct != PROBLEM:
        why.append(f"Content-Type {ct!r}")
    try:
        body = r.json()
    except ValueError:
        body = {}
        why.append("body is not JSON")
    if body.get("type") != URN + typ:
        why.append(f"type {body.get('type')!r}, expected {URN + typ}")
    if "type" in body and body.get("status", code) != r.status_code:
        why.append(f"problem status {body.get('status')} differs from HTTP {r.status_code}")
    if post and not r.headers.get("Replay-Nonce"):
        why.append("no Replay-Nonce on the answer to a POST")
    T.check(name, not why, "; ".join(why) + "\n" + show(r))
    return body


def section(title):
    print(f"-- {title}", flush=True)


D = C.dir
ACCOUNT_PREFIX = BASE + "/acme/account/"

# ---------------------------------------------------------------------------
section("accounts")
ka = Key("ES256")
r, A = C.new_account(ka, contact=["mailto:alice@corp.internal"])
status("newAccount creates an account (201)", r, 201)
T.check("the account URL is under /acme/account/", A and A.url.startswith(ACCOUNT_PREFIX), show(r))
acct = r.json()
T.check("new account is valid with its contact and orders URL",
        acct.get("status") == "valid" and acct.get("contact") == ["mailto:alice@corp.internal"]
        and acct.get("orders", "").startswith(BASE + "/acme/orders/"), show(r))
T.check("the answer links the directory",
        f'<{BASE}/directory>;rel="index"' in r.headers.get("Link", ""), show(r))
T.check("our RFC 7638 thumbprint matches josepy's",
        ka.thumbprint() == b64(ka.jose().public_key().thumbprint()))

r, again = C.new_account(ka)
status("newAccount with a known key answers 200", r, 200)
T.check("... with the same account URL", again and again.url == A.url, show(r))
r, _ = C.new_account(ka, onlyReturnExisting=True)
status("onlyReturnExisting with a known key answers 200", r, 200)
T.check("... with the same Location", r.headers.get("Location") == A.url, show(r))
r, _ = C.new_account(Key("ES256"), onlyReturnExisting=True)
problem("onlyReturnExisting with an unknown key", r, 400, "accountDoesNotExist")

r, _ = C.new_account(Key("ES256"), contact=["tel:+15555550100"])
problem("a contact that is not mailto:", r, 400, "unsupportedContact")
r, _ = C.new_account(Key("ES256"), contact=["mailto:not-an-address"])
problem("a mailto: contact without an address", r, 400, "invalidContact")
r, _ = C.new_account(Key("ES256"), contact=["mailto:a@corp.internal?subject=hi"])
problem("a mailto: contact with hfields", r, 400, "invalidContact")
r = C.post(A.url, {"contact": ["tel:+15555550100"]}, A)
problem("updating to a contact that is not mailto:", r, 400, "unsupportedContact")
r = C.post(A.url, {"contact": ["mailto:alice2@corp.internal"]}, A)
status("updating the contact", r, 200)
T.check("... stores the new contact", r.json().get("contact") == ["mailto:alice2@corp.internal"],
        show(r))
r = C.get(A.url, A)
status("POST-as-GET of the account", r, 200)
T.check("... shows the account key", r.json().get("key") == ka.jwk(), show(r))
r = C.post(A.url, {"status": "revoked"}, A)
problem("an account may only set status deactivated", r, 400, "malformed")
r = C.post(A.url, {"status": "valid", "contact": ["mailto:alice2@corp.internal"]}, A)
status("repeating the current status (as python-acme's update does) changes nothing",
       r, 200)
T.check("... the account stays valid", r.json().get("status") == "valid", show(r))
r, _ = C.new_account(Key("ES256"), externalAccountBinding={"protected": "", "payload": "",
                                                           "signature": ""})
problem("a malformed externalAccountBinding is refused", r, 400, "malformed")

for alg in ADVERTISED_ALGS:
    k = Key(alg)
    r, acc = C.new_account(k)
    if status(f"newAccount signed with {alg}", r, 201):
        status(f"a kid request signed with {alg}", C.get(acc.url, acc), 200)
r, _ = C.new_account(Key("RS256", bits=1024))
problem("a 1024-bit RSA account key", r, 400, "badPublicKey")
kd = Key("ES256")
r = C.post(D["newAccount"], {}, key=kd, header={"jwk": dict(kd.jwk(), d="AAAA")})
problem("a jwk carrying the private key", r, 400, "badPublicKey")
r = C.post(D["newAccount"], {}, key=kd, header={"jwk": dict(kd.jwk(), y=kd.jwk()["x"])})
problem("an EC jwk whose point is not on the curve", r, 400, "badPublicKey")
r, _ = C.new_account(Key("ES256"), contact="mailto:a@corp.internal")
problem("contact as a string, not an array", r, 400, "malformed")
r, _ = C.new_account(Key("ES256"), onlyReturnExisting="true")
problem("onlyReturnExisting that is not a boolean", r, 400, "malformed")
r = C.post(D["newAccount"], {}, key=Key("ES256"), kid=A.url)
problem("newAccount with kid instead of jwk", r, 400, "malformed")

# ---------------------------------------------------------------------------
section("nonces")
bogus = b64(os.urandom(16))
r = C.post(A.url, None, A, nonce=bogus)
problem("an unknown nonce", r, 400, "badNonce")
fresh = C.take_nonce(r)
T.check("badNonce carries a fresh Replay-Nonce", bool(fresh), show(r))
status("... and that nonce works", C.post(A.url, None, A, nonce=fresh), 200)

n = C.new_nonce()
status("a request with a fresh nonce", C.post(A.url, None, A, nonce=n), 200)
r = C.post(A.url, None, A, nonce=n)
problem("the same nonce a second time", r, 400, "badNonce")
fresh = C.take_nonce(r)
T.check("the replay's badNonce carries a fresh Replay-Nonce", bool(fresh) and fresh != n, show(r))
status("... and that nonce works", C.post(A.url, None, A, nonce=fresh), 200)
r = C.post(A.url, None, A, drop=("nonce",))
problem("no nonce at all", r, 400, "badNonce")
r = C.post(A.url, None, A, nonce="short")
problem("a nonce of the wrong length", r, 400, "badNonce")

# ---------------------------------------------------------------------------
section("JWS")
r = C.post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "x.corp.internal"}]}, A,
           header={"url": D["newAuthz"]})
problem("url in the protected header differs from the request URL", r, 403, "unauthorized")
r = C.post(A.url, None, A, drop=("url",))
problem("no url in the protected header", r, 400, "malformed")
r = C.post(A.url, None, A, header={"jwk": ka.jwk()})
problem("jwk and kid together", r, 400, "malformed")
r = C.post(A.url, None, key=ka)
problem("a kid resource signed with jwk", r, 400, "malformed")
r = C.post(A.url, None, A, drop=("kid",))
problem("neither jwk nor kid", r, 400, "malformed")

r = C.post(A.url, None, A, alg="none", signature="")
body = problem('alg "none"', r, 400, "badSignatureAlgorithm")
T.check("badSignatureAlgorithm lists the accepted algorithms",
        sorted(body.get("algorithms") or []) == sorted(ADVERTISED_ALGS), show(r))
p = b64(json.dumps({"alg": "HS256", "nonce": C.nonce(), "url": A.url, "kid": A.url}))
r = C.send(A.url, {"protected": p, "payload": "",
                   "signature": b64(hmac_sha256(b"k" * 32, (p + ".").encode()))})
body = problem('alg "HS256" (a MAC)', r, 400, "badSignatureAlgorithm")
T.check("... with the algorithms list", "ES256" in (body.get("algorithms") or []), show(r))
r = C.post(A.url, None, A, alg="ES999")
body = problem("an unknown alg", r, 400, "badSignatureAlgorithm")
T.check("... with the algorithms list", "RS256" in (body.get("algorithms") or []), show(r))
r = C.post(A.url, None, A, alg="RS256")
problem("an alg that does not fit the key (RS256 on P-256)", r, 400, "badSignatureAlgorithm")
r = C.post(A.url, None, A, drop=("alg",))
problem("no alg", r, 400, "malformed")
# RFC 7515 §4.1.11: a JWS naming a critical extension the recipient does
# not understand is invalid.
r = C.post(A.url, None, A, header={"crit": ["exp"], "exp": 1})
problem("a crit header naming an unknown extension", r, 400, "malformed")
r = C.post(A.url, None, A, header={"b64": False, "crit": ["b64"]})
problem("an unencoded payload (RFC 7797 b64=false)", r, 400, "malformed")
# RFC 7515 §4: duplicate header names are refused, or the last one counts.
# Here the first url is the right one and the last is not.
nn = C.nonce()
dup = ('{"alg":"ES256","nonce":"%s","url":"%s","url":"%s","kid":"%s"}'
       % (nn, A.url, D["newOrder"], A.url))
ph = b64(dup)
r = C.send(A.url, {"protected": ph, "payload": "",
                   "signature": b64(ka.sign((ph + ".").encode()))})
C.last = "POST " + A.url + "\n  protected (raw): " + dup
T.check("a protected header with two url members is not read by its first one",
        r.status_code in (400, 403) and r.headers.get("Content-Type", "").startswith(PROBLEM),
        "expected 400 malformed (duplicates refused) or 403 unauthorized (the last url counts)\n"
        + show(r))

j = C.jws(A.url, None, ka, A.url)
sig = bytearray(b64d(j["signature"]))
sig[5] ^= 0x01
j["signature"] = b64(bytes(sig))
problem("a signature that does not verify", C.send(A.url, j), 400, "malformed")
j = C.jws(A.url, {"contact": ["mailto:alice3@corp.internal"]}, ka, A.url)
j["payload"] = b64(json.dumps({"contact": ["mailto:mallory@corp.internal"]}))
problem("a payload changed after signing", C.send(A.url, j), 400, "malformed")
j = C.jws(A.url, None, ka, A.url, sign_key=Key("ES256"))
problem("signed by another key than the account's", C.send(A.url, j), 400, "malformed")

j = C.jws(A.url, None, ka, A.url)
r = C.send(A.url, j, ctype="application/json")
problem("Content-Type application/json", r, 415, "malformed")
r = C.send(A.url, C.jws(A.url, None, ka, A.url), ctype=None)
problem("no Content-Type", r, 415, "malformed")
r = C.send(A.url, C.jws(A.url, None, ka, A.url), ctype="application/jose+jsonx")
problem("Content-Type application/jose+jsonx", r, 415, "malformed")
r = C.send(A.url, C.jws(A.url, None, ka, A.url), ctype="Application/JOSE+JSON; charset=utf-8")
status("Content-Type in another case and with a parameter", r, 200)
r = C.send(A.url, b"{this is not json", ctype=JOSE)
problem("a body that is not JSON", r, 400, "malformed")
r = C.send(A.url, b"", ctype=JOSE)
problem("an empty body", r, 400, "malformed")
j = C.jws(A.url, None, ka, A.url)
j["header"] = {"kid": A.url}
problem("a JWS with an unprotected header", C.send(A.url, j), 400, "malformed")
j = C.jws(A.url, None, ka, A.url)
general = {"payload": j["payload"], "signatures": [{"protected": j["protected"],
                                                    "signature": j["signature"]}]}
problem("the general JWS serialization", C.send(A.url, general), 400, "malformed")
j = C.jws(A.url, None, ka, A.url)
j["protected"] = "!!" + j["protected"]
problem("a protected header that is not base64url", C.send(A.url, j), 400, "malformed")
j = C.jws(A.url, None, ka, A.url)
j["protected"] = b64("[1,2,3]")
problem("a protected header that is not an object", C.send(A.url, j), 400, "malformed")
r = C.post(D["newOrder"], b"not json", A)
problem("a payload that is not JSON", r, 400, "malformed")
r = C.post(D["newOrder"], [], A)
problem("a payload that is not an object", r, 400, "malformed")

r = C.post(A.url, None, key=ka, kid="https://elsewhere.example/acme/account/1")
problem("a kid that is not an account URL of this server", r, 400, "accountDoesNotExist")
r = C.post(ACCOUNT_PREFIX + "0" * 24, None, key=ka, kid=ACCOUNT_PREFIX + "0" * 24)
problem("a kid naming no account", r, 400, "accountDoesNotExist")
kb = Key("ES256")
r, B = C.new_account(kb, contact=["mailto:bob@corp.internal"])
status("a second account", r, 201)
r = C.get(B.url, A)
problem("reading another account", r, 403, "unauthorized")

big = b'{"protected":"' + b"A" * 70000 + b'","payload":"","signature":""}'
line, rest = raw_post("127.0.0.1", PORT, ROOT, "/acme/new-order", {"Content-Type": JOSE}, big)
T.check("a body over 64 KiB is refused with 413", line.startswith("HTTP/1.1 413"),
        f"got {line!r}")
if PROBLEM in rest:
    T.check("... as a malformed problem", URN + "malformed" in rest, rest[:400])

# ---------------------------------------------------------------------------
section("identifiers")
r = C.new_order(A, ["127.0.0.1"])
problem("an IPv4 address as a dns identifier", r, 400, "rejectedIdentifier")
r = C.new_order(A, ["::1"])
problem("an IPv6 address as a dns identifier", r, 400, "rejectedIdentifier")
r = C.post(D["newOrder"], {"identifiers": [{"type": "email", "value": "a@corp.internal"}]}, A)
problem("an identifier type hearth does not support", r, 400, "unsupportedIdentifier")
r = C.new_order(A, ["*.wild.corp.internal"])
status("an order for a wildcard", r, 201)
wild_order = r.json()
wild = C.get(wild_order["authorizations"][0], A).json()
T.check("its authorization is for the base name, marked wildcard, with only dns-01",
        wild.get("identifier") == {"type": "dns", "value": "wild.corp.internal"}
        and wild.get("wildcard") is True
        and [c["type"] for c in wild.get("challenges", [])] == ["dns-01"], json.dumps(wild))
r = C.new_order(A, ["*.*.corp.internal"])
problem("a wildcard that is not the whole leftmost label", r, 400, "rejectedIdentifier")
r = C.new_order(A, ["*.internal"])
problem("a wildcard right below a top-level label", r, 400, "rejectedIdentifier")
r = C.new_order(A, ["under_score.corp.internal"])
problem("a name with an underscore", r, 400, "rejectedIdentifier")
r = C.new_order(A, ["-leading.corp.internal"])
problem("a label with a leading hyphen", r, 400, "rejectedIdentifier")
r = C.post(D["newOrder"], {"identifiers": []}, A)
problem("no identifiers", r, 400, "malformed")
r = C.new_order(A, [f"n{i}.corp.internal" for i in range(101)])
problem("101 identifiers in one order", r, 400, "rejectedIdentifier")
r = C.new_order(A, ["dup.corp.internal", "DUP.corp.internal"])
T.check("the same name twice is one identifier and one authorization",
        r.status_code == 201 and len(r.json().get("identifiers", [])) == 1
        and len(r.json().get("authorizations", [])) == 1, show(r))
r = C.post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "v.corp.internal"}],
                           "notBefore": "yesterday"}, A)
problem("a notBefore that is not RFC 3339", r, 400, "malformed")
far = (datetime.datetime.utcnow() + datetime.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
r = C.post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "v.corp.internal"}],
                           "notAfter": far}, A)
problem("a notAfter beyond the validity policy", r, 400, "malformed")
r = C.new_order(A, ["MiXeD.Corp.Internal"])
status("an order for a mixed-case name", r, 201)
T.check("... is stored lower-cased",
        r.json().get("identifiers") == [{"type": "dns", "value": "mixed.corp.internal"}], show(r))

# ---------------------------------------------------------------------------
section("orders, challenges, finalize")
names = ["one.corp.internal", "two.corp.internal"]
r = C.new_order(A, names)
status("newOrder for two names (201)", r, 201)
order_url = r.headers.get("Location", "")
order = r.json()
T.check("the order is pending with two authorizations, a finalize URL and expires",
        order.get("status") == "pending" and len(order.get("authorizations", [])) == 2
        and order.get("finalize", "").startswith(BASE + "/acme/finalize/")
        and "expires" in order, show(r))
T.check("the order's Location is under /acme/order/", order_url.startswith(BASE + "/acme/order/"))

cert_key = Key("ES256")
csr = make_csr(cert_key, names)
r = C.post(order["finalize"], {"csr": b64(csr)}, A)
problem("finalize before the order is ready", r, 403, "orderNotReady")

az_url = order["authorizations"][0]
r = C.get(az_url, A)
status("POST-as-GET of an authorization", r, 200)
az = r.json()
ch = C.http01(az)
T.check("a pending authorization offers http-01 with a token",
        az.get("status") == "pending" and ch.get("status") == "pending"
        and len(ch.get("token", "")) >= 43 and ch["url"].startswith(BASE + "/acme/chall/"), show(r))
r = C.get(ch["url"], A)
status("POST-as-GET of a challenge", r, 200)
T.check("a challenge links up to its authorization",
        f'<{az_url}>;rel="up"' in r.headers.get("Link", ""), show(r))

for what, url in [("order", order_url), ("authorization", az_url), ("challenge", ch["url"]),
                  ("account", A.url), ("orders list", acct["orders"]),
                  ("finalize", order["finalize"])]:
    g = C.s.get(url, timeout=30)
    problem(f"GET of the {what} URL is refused", g, 405, "malformed", post=False)
    T.check("... and names POST in Allow", g.headers.get("Allow") == "POST", show(g))
status("POST-as-GET of the order", C.get(order_url, A), 200)
r = C.post(order_url, {}, A)
problem("POST of a non-empty payload to an order", r, 400, "malformed")
problem("another account reading the order", C.get(order_url, B), 403, "unauthorized")
problem("another account reading the authorization", C.get(az_url, B), 403, "unauthorized")
problem("another account reading the challenge", C.get(ch["url"], B), 403, "unauthorized")
problem("another account answering the challenge", C.post(ch["url"], {}, B), 403, "unauthorized")
problem("an order that does not exist", C.get(BASE + "/acme/order/" + "0" * 24, A), 404,
        "malformed")
problem("a resource that does not exist", C.get(BASE + "/acme/nothing/here", A), 404, "malformed")

for az_url in order["authorizations"]:
    final, chall, token = C.solve(A, az_url, web)
    name = final.json().get("identifier", {}).get("value") if final.status_code == 200 else "?"
    T.check(f"http-01 for {name} makes the authorization valid",
            final.status_code == 200 and final.json().get("status") == "valid", show(final))
    T.check("... and the challenge valid, with a validated time",
            chall and chall.get("status") == "valid" and "validated" in chall, json.dumps(chall))
    seen = web.requests_for(token)
    T.check(f"hearth fetched /.well-known/acme-challenge/TOKEN with Host {name}",
            bool(seen) and all(h.split(":")[0] == name for h, _ in seen), repr(seen))
r = C.get(order_url, A)
T.check("with every authorization valid the order is ready",
        r.status_code == 200 and r.json().get("status") == "ready", show(r))

r = C.post(order["finalize"], {"csr": b64(make_csr(cert_key, names + ["three.corp.internal"]))}, A)
problem("a CSR with a name the order does not have", r, 400, "badCSR")
r = C.post(order["finalize"], {"csr": b64(make_csr(cert_key, names[:1]))}, A)
problem("a CSR missing one of the order's names", r, 400, "badCSR")
r = C.post(order["finalize"], {"csr": b64(make_csr(ka, names))}, A)
problem("a CSR for the account key", r, 400, "badCSR")
r = C.post(order["finalize"], {"csr": b64(make_csr(cert_key, names, cn="other.corp.internal"))}, A)
problem("a CSR whose CN is not in the order", r, 400, "badCSR")
r = C.post(order["finalize"], {}, A)
problem("finalize without a csr", r, 400, "malformed")
r = C.post(order["finalize"], {"csr": b64(b"\x30\x03\x02\x01\x00")}, A)
problem("a CSR that is not a CSR", r, 400, "badCSR")
r = C.post(order["finalize"], {"csr": "***"}, A)
problem("a csr that is not base64url", r, 400, "malformed")
r = C.post(order["finalize"], {"csr": b64(make_csr(Key("ES512"), names))}, A)
problem("a CSR with a P-521 key (not issued)", r, 400, "badCSR")
r = C.post(order["finalize"], {"csr": b64(csr)}, B)
problem("another account finalizing the order", r, 403, "unauthorized")
r = C.get(order_url, A)
T.check("refused CSRs leave the order ready",
        r.status_code == 200 and r.json().get("status") == "ready", show(r))

r = C.post(order["finalize"], {"csr": b64(csr)}, A)
status("finalize with a matching CSR", r, 200)
order = r.json() if r.status_code == 200 else order
T.check("the finalized order is valid with a certificate URL",
        order.get("status") == "valid" and order.get("certificate", "").startswith(
            BASE + "/acme/cert/"), show(r))
r = C.post(order["finalize"], {"csr": b64(csr)}, A)
problem("finalizing a valid order again", r, 403, "orderNotReady")

cr = C.get(order.get("certificate", BASE + "/acme/cert/none"), A)
status("POST-as-GET of the certificate", cr, 200)
T.check("the certificate is application/pem-certificate-chain",
        cr.headers.get("Content-Type", "").startswith("application/pem-certificate-chain"), show(cr))
chain = split_pem_chain(cr.text)
T.check("the chain is the leaf and the intermediate", len(chain) == 2, cr.text[:200])
inter_pem = open(os.path.join(os.path.dirname(ROOT), "intermediate.crt")).read()
T.check("the second certificate is hearth's intermediate",
        len(chain) == 2 and x509.load_pem_x509_certificate(chain[1].encode()) ==
        x509.load_pem_x509_certificate(inter_pem.encode()))
ok, out = openssl_verify(ROOT, chain, WORK, "finalize")
T.check("openssl verify of the chain against the root", ok, out)
leaf = x509.load_pem_x509_certificate(chain[0].encode())
san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
T.check("the leaf names exactly the order's names",
        sorted(san.get_values_for_type(x509.DNSName)) == sorted(names))
T.check("the leaf is for the CSR's key",
        leaf.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo) ==
        cert_key.priv.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
T.check("the leaf is for TLS servers and not a CA",
        ExtendedKeyUsageOID.SERVER_AUTH in eku and not bc.ca)
T.check("the certificate URL is the leaf's serial",
        int(order["certificate"].rsplit("/", 1)[1], 16) == leaf.serial_number)
problem("GET of the certificate URL", C.s.get(order["certificate"], timeout=30), 405, "malformed",
        post=False)
problem("another account downloading the certificate", C.get(order["certificate"], B), 403,
        "unauthorized")
problem("POST of a payload to the certificate URL", C.post(order["certificate"], {}, A), 400,
        "malformed")
C1 = {"leaf": leaf, "der": leaf.public_bytes(serialization.Encoding.DER), "key": cert_key,
      "names": names}

not_after = (datetime.datetime.utcnow() + datetime.timedelta(days=10)).replace(microsecond=0)
r = C.post(D["newOrder"], {"identifiers": [{"type": "dns", "value": "one.corp.internal"}],
                           "notAfter": not_after.strftime("%Y-%m-%dT%H:%M:%SZ")}, A)
status("an order with notAfter ten days ahead", r, 201)
r = C.post(r.json()["finalize"], {"csr": b64(make_csr(Key("ES256"), ["ONE.Corp.Internal"]))}, A)
status("finalize with the name upper-cased in the CSR", r, 200)
if r.status_code == 200:
    cr = C.get(r.json()["certificate"], A)
    short = x509.load_pem_x509_certificate(split_pem_chain(cr.text)[0].encode())
    T.check("the certificate ends at the order's notAfter", short.not_valid_after == not_after,
            f"{short.not_valid_after} != {not_after}")
    T.check("... and names the order's (lower-case) name",
            short.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            .get_values_for_type(x509.DNSName) == ["one.corp.internal"])

r = C.new_order(A, ["127.0.0.1"], kind="ip")
status("an order for an IP address (RFC 8738)", r, 201)
ip_order = r.json()
final, chall, token = C.solve(A, ip_order["authorizations"][0], web)
T.check("http-01 validates the IP address",
        final.status_code == 200 and final.json().get("status") == "valid", show(final))
seen = web.requests_for(token)
T.check("... fetching with Host 127.0.0.1", bool(seen) and all(
    h.split(":")[0] == "127.0.0.1" for h, _ in seen), repr(seen))
ip_csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
          .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
              ipaddress.ip_address("127.0.0.1"))]), critical=False)
          .sign(Key("ES256").priv, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
r = C.post(ip_order["finalize"], {"csr": b64(ip_csr)}, A)
status("finalize an IP address order", r, 200)
if r.status_code == 200:
    ip_leaf = x509.load_pem_x509_certificate(
        split_pem_chain(C.get(r.json()["certificate"], A).text)[0].encode())
    T.check("the certificate names the IP address",
            ip_leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            .get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")])

# ---------------------------------------------------------------------------
section("failed validations")
r = C.new_order(A, ["wrong.corp.internal"])
az_url = r.json()["authorizations"][0]
final, chall, _ = C.solve(A, az_url, web, body="not-the-key-authorization")
T.check("a wrong key authorization makes the authorization invalid",
        final.status_code == 200 and final.json().get("status") == "invalid", show(final))
T.check("... with an incorrectResponse error on the challenge",
        chall and chall.get("status") == "invalid" and
        chall.get("error", {}).get("type") == URN + "incorrectResponse", json.dumps(chall))
r = C.get(r.headers["Location"], A)
T.check("... and the order invalid", r.json().get("status") == "invalid", show(r))
r = C.post(chall["url"], {}, A)
T.check("answering an invalid challenge again does not restart it",
        r.status_code == 200 and r.json().get("status") == "invalid", show(r))

r = C.new_order(A, ["missing.corp.internal"])
final, chall, _ = C.solve(A, r.json()["authorizations"][0], web, body=b"gone", status=404)
T.check("a 404 for the challenge file makes the authorization invalid",
        final.status_code == 200 and final.json().get("status") == "invalid", show(final))
T.check("... with an unauthorized error on the challenge",
        chall and chall.get("error", {}).get("type") == URN + "unauthorized", json.dumps(chall))

# Two transient failures (hearth retries them, RFC 8555 §8.2), run side by
# side: a name whose lookup fails, and one whose address refuses connections.
dns_admin = requests.Session()
dns_admin.trust_env = False
r = dns_admin.post(DNS_MGMT + "/set-servfail", json={"host": "servfail.corp.internal."}, timeout=10)
r.raise_for_status()
r = dns_admin.post(DNS_MGMT + "/add-a", json={"host": "refused.corp.internal.",
                                             "addresses": ["127.0.0.2"]}, timeout=10)
r.raise_for_status()
started = {}
for name in ("servfail.corp.internal", "refused.corp.internal"):
    az_url = C.new_order(A, [name]).json()["authorizations"][0]
    ch = C.http01(C.get(az_url, A).json())
    web.serve(ch["token"], C.key_authorization(A, ch["token"]))
    C.post(ch["url"], {}, A)
    started[name] = (az_url, ch["url"])
for name, what, typ in (("servfail.corp.internal", "whose DNS lookup fails", "dns"),
                        ("refused.corp.internal", "whose address refuses the connection",
                         "connection")):
    az_url, ch_url = started[name]
    final = C.poll(az_url, A, lambda j: j["status"] != "pending")
    chall = C.get(ch_url, A).json()
    T.check(f"a name {what} makes the authorization invalid",
            final.status_code == 200 and final.json().get("status") == "invalid", show(final))
    T.check(f"... with a {typ} error on the challenge",
            chall.get("error", {}).get("type") == URN + typ, json.dumps(chall))

r = C.new_order(A, ["spaces.corp.internal"])
az_url = r.json()["authorizations"][0]
tok = C.http01(C.get(az_url, A).json())["token"]
final, chall, _ = C.solve(A, az_url, web, body=C.key_authorization(A, tok) + "\r\n  \n")
T.check("trailing whitespace after the key authorization is accepted",
        final.status_code == 200 and final.json().get("status") == "valid", show(final))

# ---------------------------------------------------------------------------
section("pre-authorization and reuse")
r = C.post(D["newAuthz"], {"identifier": {"type": "dns", "value": "pre.corp.internal"}}, A)
status("newAuthz creates an authorization (201)", r, 201)
pre_url = r.headers.get("Location", "")
T.check("... pending, with http-01, at its Location",
        r.json().get("status") == "pending" and pre_url.startswith(BASE + "/acme/authz/")
        and C.http01(r.json()), show(r))
r = C.post(D["newAuthz"], {"identifier": {"type": "dns", "value": "*.corp.internal"}}, A)
problem("newAuthz for a wildcard", r, 400, "rejectedIdentifier")
r = C.post(D["newAuthz"], {"identifier": {"type": "dns", "value": "10.0.0.1"}}, A)
problem("newAuthz for an IP address as dns", r, 400, "rejectedIdentifier")
final, _, _ = C.solve(A, pre_url, web)
T.check("the pre-authorization validates",
        final.status_code == 200 and final.json().get("status") == "valid", show(final))
r = C.new_order(A, ["pre.corp.internal"])
status("an order for the pre-authorized name", r, 201)
pre_order = r.headers.get("Location")
T.check("... is ready at once and reuses the pre-authorization",
        r.json().get("status") == "ready" and r.json().get("authorizations") == [pre_url], show(r))
r = C.new_order(A, ["one.corp.internal"])
T.check("a new order for a name validated earlier is ready at once",
        r.status_code == 201 and r.json().get("status") == "ready", show(r))
r = C.new_order(B, ["one.corp.internal"])
T.check("... but not for another account",
        r.status_code == 201 and r.json().get("status") == "pending", show(r))

r = C.post(pre_url, {"status": "valid"}, A)
problem("an authorization update other than deactivation", r, 400, "malformed")
r = C.post(pre_url, {"status": "deactivated"}, B)
problem("another account deactivating the authorization", r, 403, "unauthorized")
r = C.post(pre_url, {"status": "deactivated"}, A)
status("deactivating a valid authorization", r, 200)
T.check("... answers it deactivated", r.json().get("status") == "deactivated", show(r))
r = C.get(pre_order, A)
T.check("an order relying on it turns invalid", r.json().get("status") == "invalid", show(r))
r = C.post(pre_url, {"status": "deactivated"}, A)
problem("deactivating it again", r, 400, "malformed")
r = C.new_order(A, ["pre.corp.internal"])
T.check("a new order for the name needs a new authorization",
        r.status_code == 201 and r.json().get("status") == "pending"
        and r.json().get("authorizations") != [pre_url], show(r))
pending_az = r.json()["authorizations"][0]
r = C.post(pending_az, {"status": "deactivated"}, A)
T.check("a pending authorization can be deactivated too",
        r.status_code == 200 and r.json().get("status") == "deactivated", show(r))

# ---------------------------------------------------------------------------
section("orders list")
ko = Key("ES256")
r, O = C.new_account(ko)
orders_url = r.json()["orders"]
made = set()
for i in range(52):
    r = C.new_order(O, [f"list{i}.corp.internal"])
    if r.status_code == 201:
        made.add(r.headers["Location"])
T.check("52 orders created", len(made) == 52)
r = C.get(orders_url, O)
status("POST-as-GET of the orders list", r, 200)
page1 = r.json().get("orders", [])
nxt = r.links.get("next", {}).get("url")
T.check("the first page has 50 orders and a Link rel=next", len(page1) == 50 and nxt, show(r))
if nxt:
    r2 = C.get(nxt, O)
    status("the next page", r2, 200)
    page2 = r2.json().get("orders", [])
    T.check("the last page has the other 2 and no next link",
            len(page2) == 2 and "next" not in r2.links, show(r2))
    T.check("the pages together list every order once",
            len(set(page1) | set(page2)) == 52 and set(page1) | set(page2) == made)
problem("another account reading the list", C.get(orders_url, A), 403, "unauthorized")
problem("a bad cursor", C.get(orders_url + "?cursor=zzz", O), 400, "malformed")
r = C.get(acct["orders"], A)
T.check("the first account's list holds its first order",
        r.status_code == 200 and order_url in r.json().get("orders", []), show(r))

# ---------------------------------------------------------------------------
section("key change")
k1, k2 = Key("ES256"), Key("ES256")
r, K = C.new_account(k1, contact=["mailto:kim@corp.internal"])
kx = Key("ES256")
r, X = C.new_account(kx)
KC = D["keyChange"]


def key_change(acct, new, inner_header=None, payload=None, inner_sign=None, inner_url=None):
    inner_payload = payload or {"account": acct.url, "oldKey": acct.key.jwk()}
    p = {"alg": new.alg, "jwk": new.jwk(), "url": inner_url or KC}
    p.update(inner_header or {})
    ph = b64(json.dumps(p))
    pl = b64(json.dumps(inner_payload))
    inner = {"protected": ph, "payload": pl,
             "signature": b64((inner_sign or new).sign(f"{ph}.{pl}".encode()))}
    return C.post(KC, inner, acct)


r = key_change(K, k2, inner_header={"nonce": C.new_nonce()})
problem("keyChange with a nonce in the inner JWS", r, 400, "malformed")
r = key_change(K, k2, payload={"account": K.url, "oldKey": Key("ES256").jwk()})
problem("keyChange whose oldKey is not the account key", r, 400, "malformed")
r = key_change(K, k2, payload={"account": X.url, "oldKey": k1.jwk()})
problem("keyChange naming another account", r, 400, "malformed")
r = key_change(K, k2, inner_sign=Key("ES384"))
problem("keyChange whose inner signature does not verify", r, 400, "malformed")
r = key_change(K, k2, inner_url=D["newAccount"])
problem("keyChange whose inner url differs", r, 403, "unauthorized")
r = key_change(K, kx)
problem("keyChange to a key another account holds", r, 409, "malformed")
T.check("... names that account in Location", r.headers.get("Location") == X.url, show(r))
r = key_change(K, k2)
status("keyChange to a new key", r, 200)
T.check("... the account now shows the new key", r.json().get("key") == k2.jwk(), show(r))
problem("the old key no longer signs for the account", C.get(K.url, K), 400, "malformed")
K.key = k2
status("the new key does", C.get(K.url, K), 200)
r, _ = C.new_account(k1, onlyReturnExisting=True)
problem("onlyReturnExisting with the old key", r, 400, "accountDoesNotExist")
r, _ = C.new_account(k2, onlyReturnExisting=True)
T.check("onlyReturnExisting with the new key finds the account",
        r.status_code == 200 and r.headers.get("Location") == K.url, show(r))
r, _ = C.new_account(k1)
T.check("the old key is free for a new account",
        r.status_code == 201 and r.headers.get("Location") != K.url, show(r))

# ---------------------------------------------------------------------------
section("account deactivation")
kz = Key("ES256")
r, Z = C.new_account(kz)
r = C.post(Z.url, {"status": "deactivated"}, Z)
status("deactivating an account", r, 200)
T.check("... answers it deactivated", r.json().get("status") == "deactivated", show(r))
problem("a deactivated account cannot read itself", C.get(Z.url, Z), 403, "unauthorized")
problem("a deactivated account cannot order", C.new_order(Z, ["z.corp.internal"]), 403,
        "unauthorized")
problem("a deactivated account cannot change its key", key_change(Z, Key("ES256")), 403,
        "unauthorized")
r, _ = C.new_account(kz)
T.check("newAccount with a deactivated account's key creates nothing (200 deactivated or 403)",
        (r.status_code == 200 and r.json().get("status") == "deactivated"
         and r.headers.get("Location") == Z.url) or
        (r.status_code == 403 and r.json().get("type") == URN + "unauthorized"), show(r))

# ---------------------------------------------------------------------------
section("revocation")
RV = D["revokeCert"]
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": 7}, A)
problem("reason code 7 (unused in RFC 5280)", r, 400, "badRevocationReason")
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": 11}, A)
problem("reason code 11 (beyond RFC 5280)", r, 400, "badRevocationReason")
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": -1}, A)
problem("a negative reason code", r, 400, "badRevocationReason")
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": "1"}, A)
problem("a reason that is not a number", r, 400, "badRevocationReason")
r = C.post(RV, {"certificate": "***"}, A)
problem("a certificate that is not base64url", r, 400, "malformed")
foreign = x509.load_pem_x509_certificate(open(ROOT, "rb").read())
r = C.post(RV, {"certificate": b64(foreign.public_bytes(serialization.Encoding.DER))}, A)
problem("a certificate hearth did not issue as a leaf", r, 404, "malformed")
r = C.post(RV, {"certificate": b64(C1["der"])}, B)
problem("an account without authorizations for its names", r, 403, "unauthorized")
r = C.post(RV, {"certificate": b64(C1["der"])}, key=Key("ES256"))
problem("signed with an unrelated jwk", r, 403, "unauthorized")
r = C.post(RV, {"certificate": b64(C1["der"])}, key=ka)
problem("signed with the issuing account's key as jwk (not the certificate's)", r, 403,
        "unauthorized")
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": 4}, A)
status("the issuing account revokes (reason 4)", r, 200)
r = C.post(RV, {"certificate": b64(C1["der"]), "reason": 4}, A)
problem("revoking it again", r, 400, "alreadyRevoked")
r = C.post(RV, {"certificate": b64(C1["der"])}, key=C1["key"])
problem("revoking it again with its own key", r, 400, "alreadyRevoked")

try:
    c2 = C.issue(A, ["keyrev.corp.internal"], web)
    r = C.post(RV, {"certificate": b64(c2["der"]), "reason": 1}, key=c2["key"])
    status("revocation signed by the certificate's own key (jwk)", r, 200)
    problem("... then by the account: already revoked",
            C.post(RV, {"certificate": b64(c2["der"])}, A), 400, "alreadyRevoked")
except AssertionError as e:
    T.check("issuing a certificate for keyrev.corp.internal", False, str(e))

try:
    c3 = C.issue(A, ["shared1.corp.internal", "shared2.corp.internal"], web)
    r = C.new_order(B, ["shared1.corp.internal"])
    C.solve(B, r.json()["authorizations"][0], web)
    r = C.post(RV, {"certificate": b64(c3["der"])}, B)
    problem("an account authorized for only some of the names", r, 403, "unauthorized")
    r = C.new_order(B, ["shared2.corp.internal"])
    C.solve(B, r.json()["authorizations"][0], web)
    r = C.post(RV, {"certificate": b64(c3["der"]), "reason": 5}, B)
    status("another account holding valid authorizations for every name revokes", r, 200)
    problem("... and the issuing account then finds it revoked",
            C.post(RV, {"certificate": b64(c3["der"])}, A), 400, "alreadyRevoked")
except AssertionError as e:
    T.check("issuing a certificate for shared1/shared2.corp.internal", False, str(e))

# ---------------------------------------------------------------------------
section("python3-acme as a client")
lib_key = Key("ES256")
net = acme_client.ClientNetwork(lib_key.jose(), alg=jose.ES256, verify_ssl=ROOT,
                                user_agent="hearth-e2e")
directory = messages.Directory.from_json(net.get(BASE + "/directory").json())
lib = acme_client.ClientV2(directory, net)
try:
    regr = lib.new_account(messages.NewRegistration.from_data(
        email="lib@corp.internal", terms_of_service_agreed=True))
    T.check("python3-acme registers", regr.body.status == "valid" and regr.uri.startswith(
        ACCOUNT_PREFIX))
    lib_cert_key = Key("ES256")
    csr_pem = x509.load_der_x509_csr(make_csr(lib_cert_key, ["lib.corp.internal"])).public_bytes(
        serialization.Encoding.PEM)
    orderr = lib.new_order(csr_pem)
    for authzr in orderr.authorizations:
        for chb in authzr.body.challenges:
            if isinstance(chb.chall, challenges.HTTP01):
                resp, validation = chb.response_and_validation(lib_key.jose())
                web.serve(chb.chall.encode("token"), validation)
                lib.answer_challenge(chb, resp)
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    orderr = lib.poll_and_finalize(orderr, deadline)
    chain = split_pem_chain(orderr.fullchain_pem)
    ok, out = openssl_verify(ROOT, chain, WORK, "python3-acme")
    T.check("python3-acme gets a certificate that verifies", ok, out)
    leaf = jose.ComparableX509(OpenSSL.crypto.load_certificate(OpenSSL.crypto.FILETYPE_PEM,
                                                               chain[0]))
    lib.revoke(leaf, 0)
    T.check("python3-acme revokes it", True)
    try:
        lib.revoke(leaf, 0)
        T.check("python3-acme's second revocation is refused", False, "no error")
    except messages.Error as e:
        T.check("python3-acme's second revocation is refused with alreadyRevoked",
                e.typ == URN + "alreadyRevoked", str(e))
    regr = lib.deactivate_registration(regr)
    T.check("python3-acme deactivates its account", regr.body.status == "deactivated")
except (messages.Error, acme_errors.Error, AssertionError) as e:
    T.check("python3-acme flow", False, f"{type(e).__name__}: {e}")

web.close()
sys.exit(T.done())
