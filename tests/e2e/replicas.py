"""replicas.py: an ACME client that retries as real clients do, for the
replica and PostgreSQL failure tests (test_replica_kill.sh,
test_pg_restart.sh):

    replicas.py load BASE ROOT WEBROOT RECEIVED STOP CLIENTS SUMMARY
    replicas.py nonce-get BASE ROOT
    replicas.py nonce-use BASE ROOT NONCE
    replicas.py probe-down BASE ROOT

load       CLIENTS threads each run whole issuances (a new account, an
           order for a fresh name, http-01 answered from WEBROOT,
           finalize, download) until STOP exists; a flow under way when
           STOP appears is finished. A flow never starts over: each request
           is retried as certbot and lego do: badNonce with the nonce of
           the error answer, a connection error (refused, reset, closed
           without an answer) after a second, a 5xx after its Retry-After;
           at most RETRIES times each. Every certificate received is
           appended to RECEIVED in crash.py's format (crash.py check
           downloads and revokes them). SUMMARY gets one JSON object:
           flows completed and failed, connection errors, 5xx answers with
           and without a problem document and Retry-After, badNonce
           retries. Exit status 1 when a flow failed.
nonce-get  prints a fresh nonce from BASE's newNonce (BASE itself, not the
           --base-url the directory names).
nonce-use  a newAccount sent to BASE signed with NONCE must be created (201),
           and the same NONCE used again must answer badNonce. Exit 0 when
           both hold.
probe-down BASE's store is down: a newAccount sent to BASE (with a nonce
           from GET newNonce, or that answer itself when it is the
           failure) must
           answer a 5xx problem document with Retry-After. Exit 0 when it
           does.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import JOSE, PROBLEM, URN, Key, b64, make_csr, split_pem_chain  # noqa: E402

import requests  # noqa: E402
from cryptography import x509  # noqa: E402

RETRIES = 8             # per request, for each kind of failure
RETRY_AFTER_CAP = 5     # seconds; a longer Retry-After is waited this long
# how long an authorization or order is polled: certbot gives up after 90 s
POLL_DEADLINE = float(os.environ.get("HEARTH_POLL_DEADLINE", "90"))
LOCK = threading.Lock()


class Stats:
    def __init__(self):
        self.c = {"flows": 0, "failed": 0, "conn_errors": 0, "bad_nonce": 0,
                  "finalize_again": 0,
                  "answers_5xx": 0, "answers_5xx_ok": 0, "answers_5xx_bad": []}

    def add(self, key, n=1):
        with LOCK:
            self.c[key] += n

    def bad(self, what):
        with LOCK:
            self.c["answers_5xx_bad"].append(what)


class FlowError(Exception):
    pass


class Agent:
    """One client: a keep-alive session, a nonce pool of one, retries."""

    def __init__(self, base, root, stats):
        self.base, self.root, self.stats = base, root, stats
        self.s = self.session()
        self.nonce = None
        self.dir = self.call(lambda: self.s.get(base + "/directory", timeout=30)).json()

    def session(self):
        s = requests.Session()
        s.trust_env = False
        s.verify = self.root
        return s

    def note_5xx(self, r):
        """Counts a 5xx answer; it must be a problem document with Retry-After."""
        self.stats.add("answers_5xx")
        ctype = r.headers.get("Content-Type", "")
        if ctype.startswith(PROBLEM) and r.headers.get("Retry-After", "").isdigit():
            self.stats.add("answers_5xx_ok")
        else:
            self.stats.bad(f"{r.status_code} {ctype!r} Retry-After="
                           f"{r.headers.get('Retry-After')!r} {r.text[:200]!r}")

    def call(self, send):
        """send() retried on connection errors and 5xx; the last answer."""
        for _ in range(RETRIES):
            try:
                r = send()
            except requests.ConnectionError:
                self.stats.add("conn_errors")
                self.s.close()
                self.s = self.session()
                self.nonce = None
                time.sleep(1)
                continue
            if r.headers.get("Replay-Nonce"):
                self.nonce = r.headers["Replay-Nonce"]
            if r.status_code < 500:
                return r
            self.note_5xx(r)
            ra = r.headers.get("Retry-After", "1")
            time.sleep(min(int(ra) if ra.isdigit() else 1, RETRY_AFTER_CAP))
        raise FlowError(f"no answer after {RETRIES} tries")

    def fresh_nonce(self):
        r = self.call(lambda: self.s.head(self.dir["newNonce"], timeout=30))
        return r.headers["Replay-Nonce"]

    def post(self, url, payload, key, kid=None):
        """A signed POST (payload None: POST-as-GET), badNonce retried."""
        for _ in range(RETRIES):
            nonce = self.nonce or self.fresh_nonce()
            self.nonce = None
            r = self.call(lambda n=nonce: self.s.post(
                url, data=json.dumps(jws(url, payload, key, kid, n)),
                headers={"Content-Type": JOSE}, timeout=30))
            if r.status_code == 400 and r.headers.get("Content-Type", "").startswith(PROBLEM) \
                    and r.json().get("type") == URN + "badNonce":
                self.stats.add("bad_nonce")
                continue
            return r
        raise FlowError(f"POST {url}: badNonce {RETRIES} times")


def jws(url, payload, key, kid, nonce):
    protected = {"alg": key.alg, "nonce": nonce, "url": url}
    if kid:
        protected["kid"] = kid
    else:
        protected["jwk"] = key.jwk()
    p = b64(json.dumps(protected))
    pl = "" if payload is None else b64(json.dumps(payload))
    return {"protected": p, "payload": pl, "signature": b64(key.sign(f"{p}.{pl}".encode()))}


def expect(r, codes, what):
    if r.status_code not in codes:
        raise FlowError(f"{what}: {r.status_code} {r.text[:300]}")
    return r


def poll(a, url, key, kid, done):
    """POST-as-GET url until done(json), honouring Retry-After."""
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        r = expect(a.post(url, None, key, kid), (200,), f"poll {url}")
        if done(r.json()):
            return r.json()
        if time.monotonic() > deadline:
            raise FlowError(f"poll {url}: still {r.json().get('status')}")
        ra = r.headers.get("Retry-After", "")
        time.sleep(min(int(ra), RETRY_AFTER_CAP) if ra.isdigit() else 0.2)


def http01(a, key, kid, authz_url, webroot):
    az = expect(a.post(authz_url, None, key, kid), (200,), "authorization").json()
    if az["status"] == "valid":
        return
    ch = next(c for c in az["challenges"] if c["type"] == "http-01")
    with open(os.path.join(webroot, ch["token"]), "w") as f:
        f.write(f"{ch['token']}.{key.thumbprint()}")
    expect(a.post(ch["url"], {}, key, kid), (200,), "challenge")
    az = poll(a, authz_url, key, kid, lambda j: j["status"] != "pending")
    if az["status"] != "valid":
        raise FlowError(f"authorization {authz_url}: {json.dumps(az)[:300]}")


def finalize(a, key, kid, order_url, order, name):
    """Finalizes; a retried finalize that finds the order past ready is fine.
    An order back at ready (the replica that claimed it died before storing
    the certificate, and the claim lapsed) is finalized again, once, as a
    client that retries a failed finalize does."""
    for attempt in (1, 2):
        csr = make_csr(Key("ES256"), [name])
        r = a.post(order["finalize"], {"csr": b64(csr)}, key, kid)
        if r.status_code != 200:
            cur = expect(a.post(order_url, None, key, kid), (200,), "order").json()
            if cur["status"] not in ("processing", "valid") and \
                    not (cur["status"] == "ready" and attempt == 1):
                raise FlowError(f"finalize: {r.status_code} {r.text[:300]}")
        cur = poll(a, order_url, key, kid, lambda j: j["status"] != "processing")
        if cur["status"] != "ready":
            return cur
        a.stats.add("finalize_again")
    return cur


def issue(a, webroot, name):
    """One whole issuance; the record crash.py check reads."""
    key = Key("ES256")
    r = expect(a.post(a.dir["newAccount"], {"termsOfServiceAgreed": True}, key),
               (200, 201), "newAccount")
    kid = r.headers["Location"]
    r = expect(a.post(a.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
                      key, kid), (201,), "newOrder")
    order_url, order = r.headers["Location"], r.json()
    for authz_url in order["authorizations"]:
        http01(a, key, kid, authz_url, webroot)
    order = finalize(a, key, kid, order_url, order, name)
    if order["status"] != "valid":
        raise FlowError(f"order {order_url}: {json.dumps(order)[:300]}")
    r = expect(a.post(order["certificate"], None, key, kid), (200,), "certificate")
    leaf = x509.load_pem_x509_certificate(split_pem_chain(r.text)[0].encode())
    return {"key": key.pem().decode(), "account": kid, "cert_url": order["certificate"],
            "fullchain": r.text, "serial": format(leaf.serial_number, "X"), "name": name}


def client_loop(args, n, stats):
    base, root, webroot, received, stop = args
    i = 0
    a = None
    while not os.path.exists(stop):
        i += 1
        name = f"r{n}-{i}-{os.getpid()}.replica.internal"
        try:
            a = a or Agent(base, root, stats)
            rec = issue(a, webroot, name)
        except (FlowError, requests.RequestException, ValueError, KeyError) as e:
            stats.add("failed")
            print(f"flow {name} failed: {e}", file=sys.stderr, flush=True)
            continue
        stats.add("flows")
        with LOCK, open(received, "a") as f:
            f.write(json.dumps(rec) + "\n")


def load(base, root, webroot, received, stop, clients, summary):
    stats = Stats()
    threads = [threading.Thread(target=client_loop, args=(
        (base, root, webroot, received, stop), n, stats)) for n in range(int(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(summary, "w") as f:
        json.dump(stats.c, f)
    print(json.dumps(stats.c))
    return 1 if stats.c["failed"] else 0


def direct(base, url):
    """url (under --base-url, the load balancer) sent to base instead."""
    return base + "/" + url.split("/", 3)[3]


def nonce_use(base, root, nonce):
    a = Agent(base, root, Stats())
    url = a.dir["newAccount"]
    ok = True
    for attempt, want in ((1, 201), (2, "badNonce")):
        r = a.s.post(direct(base, url), data=json.dumps(jws(url, {"termsOfServiceAgreed": True},
                                                  Key("ES256"), None, nonce)),
                     headers={"Content-Type": JOSE}, timeout=30)
        got = r.status_code if want == 201 else r.json().get("type", "").removeprefix(URN)
        print(f"use {attempt} of the nonce: {r.status_code} {r.text[:200]}")
        ok = ok and got == want
    return 0 if ok else 1


def probe_down(base, root):
    s = requests.Session()
    s.trust_env = False
    s.verify = root
    d = s.get(base + "/directory", timeout=30).json()
    r = s.get(direct(base, d["newNonce"]), timeout=30)
    if r.status_code < 500:
        url = d["newAccount"]
        r = s.post(direct(base, url), data=json.dumps(jws(url, {"termsOfServiceAgreed": True}, Key("ES256"),
                                           None, r.headers["Replay-Nonce"])),
                   headers={"Content-Type": JOSE}, timeout=30)
    print(f"{r.status_code} {r.headers.get('Content-Type')} "
          f"Retry-After={r.headers.get('Retry-After')} {r.text[:300]}")
    ok = (r.status_code >= 500 and r.headers.get("Content-Type", "").startswith(PROBLEM)
          and r.headers.get("Retry-After", "").isdigit())
    return 0 if ok else 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        sys.exit(load(*args[:7]))
    elif cmd == "nonce-get":
        a = Agent(args[0], args[1], Stats())
        print(a.s.head(direct(args[0], a.dir["newNonce"]), timeout=30).headers["Replay-Nonce"])
    elif cmd == "nonce-use":
        sys.exit(nonce_use(*args[:3]))
    elif cmd == "probe-down":
        sys.exit(probe_down(*args[:2]))
    else:
        sys.exit(__doc__)
