"""limits.py: each rate limit and cap of a running hearth, with an abusive
client and a well-behaved one side by side. The abusers send from other
loopback addresses (127.0.0.2, .4, .5, ...) than the well-behaved client
(127.0.0.3), which must still get what it asks for. Run by test_limits.sh
with Debian's /usr/bin/python3 against a server started with low limits:

    limits.py BASE_URL ROOT_CERT abuse       (no port 5002: beside certbot)
    limits.py BASE_URL ROOT_CERT validation  (serves http-01 on 5002)

The expected limits are those test_limits.sh starts the server with.
"""
import http.client
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import PROBLEM, URN, Checks, Client, Key  # noqa: E402

BASE, ROOT, PHASE = sys.argv[1:4]
HOST, PORT = urlparse(BASE).hostname, urlparse(BASE).port
GOOD = "127.0.0.3"
LIMITS = {"accounts": 3, "orders": 4, "failures": 2, "pending": 5, "share": 2,
          "conns_per_source": 8}
T = Checks()


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from one loopback source address."""

    def __init__(self, src):
        self.src = src
        super().__init__()

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.src, 0)
        super().init_poolmanager(*args, **kw)


def client(src):
    c = Client(BASE, ROOT)
    c.s.mount("https://", SourceAdapter(src))
    return c


def show(c, r):
    return f"request: {c.last}\nresponse: {r.status_code}\n{r.text[:600]}"


def limited(name, c, r, detail):
    """r is rateLimited (429) with a Retry-After and a detail naming it."""
    body = r.json() if r.headers.get("Content-Type", "").startswith(PROBLEM) else {}
    ra = r.headers.get("Retry-After", "")
    T.check(name, r.status_code == 429 and body.get("type") == URN + "rateLimited"
            and ra.isdigit() and int(ra) > 0 and detail in body.get("detail", ""),
            show(c, r))


def account(c):
    r, a = c.new_account(Key("ES256"))
    if r.status_code != 201:
        raise AssertionError(show(c, r))
    return a


# ---- abuse: beside certbot and lego, without port 5002 ----------------------

def abuse_accounts(good):
    bad = client("127.0.0.2")
    for i in range(LIMITS["accounts"]):
        r, _ = bad.new_account(Key("ES256"))
        T.check(f"abuser's account {i + 1} within the limit", r.status_code == 201,
                show(bad, r))
    r, _ = bad.new_account(Key("ES256"))
    limited("one more account from 127.0.0.2 is rateLimited", bad, r,
            "new accounts per source address")
    r, _ = good.new_account(Key("ES256"))
    T.check("an account from 127.0.0.3 is created meanwhile", r.status_code == 201,
            show(good, r))


def abuse_orders(good, gacct):
    bad = client("127.0.0.4")
    acct = account(bad)
    for i in range(LIMITS["orders"]):
        r = bad.new_order(acct, [f"o{i}.limits.internal"])
        T.check(f"abuser's order {i + 1} within the limit", r.status_code == 201,
                show(bad, r))
    r = bad.new_order(acct, ["o9.limits.internal"])
    limited("one more order of the account is rateLimited", bad, r,
            "new orders per account")
    r = good.new_order(gacct, ["good-order.limits.internal"])
    T.check("the well-behaved account's order is created", r.status_code == 201,
            show(good, r))


def abuse_pending(good, gacct):
    bad = client("127.0.0.4")
    acct = account(bad)
    names = [f"p{i}.limits.internal" for i in range(LIMITS["pending"])]
    r = bad.new_order(acct, names)
    T.check("an order with as many names as pending authorizations are allowed",
            r.status_code == 201, show(bad, r))
    r = bad.new_order(acct, ["p-more.limits.internal"])
    limited("one more pending authorization is rateLimited", bad, r,
            "pending authorizations per account")
    r = good.new_order(gacct, ["good-pending.limits.internal"])
    T.check("the well-behaved account's order is created", r.status_code == 201,
            show(good, r))


def abuse_nonces(good, gacct):
    bad = client("127.0.0.5")
    kept = good.new_nonce()
    refused = None
    for _ in range(400):
        r = bad.s.head(bad.dir["newNonce"], timeout=30)
        if r.status_code != 200:
            refused = r
            break
    T.check("a nonce flood from 127.0.0.5 is stopped", refused is not None)
    if refused is not None:
        T.check("... with rateLimited and Retry-After", refused.status_code == 429
                and refused.headers.get("Retry-After", "").isdigit(),
                f"{refused.status_code} {refused.headers}")
    r = bad.s.head(bad.dir["newNonce"], timeout=30)
    T.check("... and stays stopped", r.status_code == 429, str(r.status_code))
    r = good.post(gacct.url, None, gacct, nonce=kept)
    T.check("a nonce 127.0.0.3 took before the flood is still good",
            r.status_code == 200, show(good, r))


def https_conn(src):
    ctx = ssl.create_default_context(cafile=ROOT)
    return http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=30,
                                       source_address=(src, 0))


def abuse_connections(good):
    held = []
    for _ in range(LIMITS["conns_per_source"]):
        h = https_conn("127.0.0.6")
        h.request("GET", "/directory")
        ok = h.getresponse()
        ok.read()
        held.append(h)
    T.check(f"{len(held)} connections from 127.0.0.6 are open", len(held) ==
            LIMITS["conns_per_source"])
    refused = 0
    for _ in range(4):
        h = https_conn("127.0.0.6")
        try:
            h.request("GET", "/directory")
            h.getresponse().read()
        except (OSError, http.client.HTTPException):
            refused += 1
        h.close()
    T.check("more connections from 127.0.0.6 are closed at accept", refused == 4,
            f"{refused} of 4 refused")
    r = good.s.get(BASE + "/directory", timeout=30)
    T.check("127.0.0.3 is served while 127.0.0.6 holds its connections",
            r.status_code == 200, str(r.status_code))
    for h in held:
        h.close()


def closed_by_server(sock, trickle):
    """Trickles bytes (or nothing) until the server closes; True when it did.
    Bounded by a count of steps, not a clock."""
    sock.settimeout(0.5)
    for i in range(240):
        try:
            if trickle is not None:
                sock.send(trickle[i % len(trickle):i % len(trickle) + 1])
            data = sock.recv(1024)
            if data == b"":
                return True
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (OSError, ssl.SSLError):
            return True
    return False


def abuse_slowloris(good):
    raw = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.7", 0))
    T.check("a connection that never starts its handshake is closed",
            closed_by_server(raw, None))
    raw.close()
    ctx = ssl.create_default_context(cafile=ROOT)
    tcp = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.7", 0))
    tls = ctx.wrap_socket(tcp, server_hostname=HOST)
    tls.send(b"GET /directory HTTP/1.1\r\nHost: localhost\r\n")
    T.check("headers sent a byte at a time are cut",
            closed_by_server(tls, b"X-Slow: abcdefghijklmnopqrstuvwxyz\r\n"))
    tls.close()
    r = good.s.get(BASE + "/directory", timeout=30)
    T.check("127.0.0.3 is served after the slow clients", r.status_code == 200,
            str(r.status_code))


def abuse():
    good = client(GOOD)
    gacct = account(good)
    for section in (lambda: abuse_accounts(good), lambda: abuse_orders(good, gacct),
                    lambda: abuse_pending(good, gacct),
                    lambda: abuse_nonces(good, gacct),
                    lambda: abuse_connections(good), lambda: abuse_slowloris(good)):
        section()


# ---- validation: the queue share and failed validations ----------------------

class HeldResponder:
    """http-01 on 127.0.0.1:5002: the well-behaved client's tokens are
    answered at once; every other request waits until release()."""

    def __init__(self, port=5002):
        self.files = {}
        self.gate = threading.Event()
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                token = self.path.rsplit("/", 1)[-1]
                body = me.files.get(token)
                if body is None:
                    me.gate.wait(120)
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *a):
                pass

        ThreadingHTTPServer.daemon_threads = True
        self.srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def serve(self, token, body, status=200, headers=None):
        self.files[token] = body

    def release(self):
        self.gate.set()

    def close(self):
        self.gate.set()
        self.srv.shutdown()
        self.srv.server_close()


def post_challenge(c, acct, name):
    r = c.new_order(acct, [name])
    if r.status_code != 201:
        raise AssertionError(show(c, r))
    az = r.json()["authorizations"][0]
    ch = c.http01(c.get(az, acct).json())
    return az, ch["url"], c.post(ch["url"], {}, acct)


def validation():
    web = HeldResponder()
    good, bad = client(GOOD), client("127.0.0.8")
    gacct, acct = account(good), account(bad)
    try:
        held = [post_challenge(bad, acct, f"q{i}.limits.internal") for i in range(2)]
        T.check("the abuser's first validations are queued",
                all(r.status_code == 200 for _, _, r in held))
        az, url, r = post_challenge(bad, acct, "q2.limits.internal")
        limited("a validation beyond the account's share is rateLimited", bad, r,
                "validations per account")
        st = bad.get(url, acct).json().get("status")
        T.check("... and that challenge stays pending, not lost", st == "pending", st)
        try:
            got = good.issue(gacct, ["good-cert.limits.internal"], web)
            T.check("the well-behaved client gets its certificate meanwhile",
                    got["order"]["status"] == "valid")
        except AssertionError as e:
            T.check("the well-behaved client gets its certificate meanwhile", False,
                    str(e))
        web.release()
        for haz, _, _ in held:
            final = bad.poll(haz, acct, lambda j: j["status"] != "pending", 120)
            T.check("a held validation fails once answered 404",
                    final.json().get("status") == "invalid", final.text[:300])
        r = bad.post(url, {}, acct)
        T.check("with its share free, the pending challenge is accepted",
                r.status_code == 200, show(bad, r))
        bad.poll(az, acct, lambda j: j["status"] != "pending", 120)
        # failed validations of one name (an account with orders to spare)
        acct = account(bad)
        for i in range(LIMITS["failures"]):
            faz, _, r = post_challenge(bad, acct, "fail.limits.internal")
            bad.poll(faz, acct, lambda j: j["status"] != "pending", 120)
        r = bad.new_order(acct, ["fail.limits.internal"])
        limited("a new order after repeated failures for a name is rateLimited", bad, r,
                "failed validations per account and name")
        r = bad.new_order(acct, ["other.limits.internal"])
        T.check("... other names of the account are not", r.status_code == 201,
                show(bad, r))
        r = good.new_order(gacct, ["fail.limits.internal"])
        T.check("... nor is that name for another account", r.status_code == 201,
                show(good, r))
    finally:
        web.close()


if __name__ == "__main__":
    {"abuse": abuse, "validation": validation}[PHASE]()
    sys.exit(T.done())
