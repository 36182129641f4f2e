"""hold.py: answers held until the validation they wait on ends
(docs/architecture.md, "Validation"), against a running hearth started with
--hold-max 2000. Run by test_hold.sh with Debian's /usr/bin/python3:

    hold.py BASE_URL ROOT_CERT HTTP01_PORT METRICS_URL

- A peer that answers at once: the answer to the challenge POST is the
  challenge already valid, with no Retry-After; the authorization read
  next is valid; the Replay-Nonce of the held answer is accepted.
- A peer that does not answer until the test lets it: the challenge POST
  is answered when --hold-max passes, processing, with an integer
  Retry-After of at least 1; so is a read of the authorization (pending);
  a client that sends a read and closes its connection during the hold
  ends that hold at once (counted "closed"); once the peer answers, the
  authorization turns valid and the certificate is issued.
- The holds are counted by outcome on /metrics.
"""
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import Checks, Client, Key  # noqa: E402


class Peer:
    """The http-01 peer: serves key authorizations; a token marked slow is
    answered only once release() is called."""

    def __init__(self, port):
        self.files = {}
        self.slow = set()
        self.gate = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                token = self.path.rsplit("/", 1)[-1]
                if token in peer.slow:
                    peer.gate.wait(30)
                body = peer.files.get(token, "not found").encode()
                self.send_response(200 if token in peer.files else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def retry_after_ok(r):
    v = r.headers.get("Retry-After", "")
    return re.fullmatch(r"[0-9]+", v) is not None and int(v) >= 1


def new_authz(cl, acct, name):
    """A fresh order for name: (order URL, authorization URL, its http-01
    challenge)."""
    r = cl.new_order(acct, [name])
    assert r.status_code == 201, r.text
    az_url = r.json()["authorizations"][0]
    return r.headers["Location"], az_url, cl.http01(cl.get(az_url, acct).json())


def answered_at_once(ck, cl, acct, peer):
    _, az_url, ch = new_authz(cl, acct, "fast.hold.internal")
    peer.files[ch["token"]] = cl.key_authorization(acct, ch["token"])
    r = cl.post(ch["url"], {}, acct)
    ck.check("challenge POST answered 200", r.status_code == 200, r.text)
    ck.check("the challenge POST's answer shows it valid",
             r.json().get("status") == "valid", r.text)
    ck.check("a valid challenge carries no Retry-After",
             "Retry-After" not in r.headers, str(r.headers))
    nonce = cl.take_nonce(r)
    az = cl.send(az_url, cl.jws(az_url, None, acct.key, acct.url, nonce=nonce))
    ck.check("the held answer's Replay-Nonce is accepted", az.status_code == 200,
             az.text)
    ck.check("the authorization read next is valid",
             az.status_code == 200 and az.json().get("status") == "valid", az.text)


def read_then_close(ck, cl, acct, url, metrics):
    """Sends a POST-as-GET of url on its own TLS connection, waits until the
    server holds the answer (hearth_holds_started_total grows), closes the
    connection without reading, and waits until the hold is counted as
    closed."""
    u = urllib.parse.urlsplit(cl.base)
    body = json.dumps(cl.jws(url, None, acct.key, acct.url))
    path = urllib.parse.urlsplit(url).path
    ctx = ssl.create_default_context(cafile=cl.root)
    before = hold_counts(metrics)
    with socket.create_connection((u.hostname, u.port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname) as s:
            s.sendall((f"POST {path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                       "Content-Type: application/jose+json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
            held = wait_for(metrics, lambda n: n["started"] > before["started"])
            ck.check("a read of the processing challenge is held", held)
    ck.check("a client closing its connection ends its hold as closed",
             wait_for(metrics, lambda n: n["closed"] > before["closed"]))


def wait_for(metrics, cond, timeout=20):
    """Polls /metrics until cond(counts); whether it came true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond(hold_counts(metrics)):
            return True
        time.sleep(0.05)
    return False


def capped(ck, cl, acct, peer, metrics):
    order_url, az_url, ch = new_authz(cl, acct, "slow.hold.internal")
    peer.slow.add(ch["token"])
    peer.files[ch["token"]] = cl.key_authorization(acct, ch["token"])
    r = cl.post(ch["url"], {}, acct)
    ck.check("a capped hold answers the challenge processing",
             r.status_code == 200 and r.json().get("status") == "processing", r.text)
    ck.check("a capped hold answers with Retry-After >= 1", retry_after_ok(r),
             str(r.headers))
    read_then_close(ck, cl, acct, ch["url"], metrics)
    r = cl.get(az_url, acct)
    ck.check("a capped read of the authorization answers it pending",
             r.status_code == 200 and r.json().get("status") == "pending", r.text)
    ck.check("... with Retry-After >= 1", retry_after_ok(r), str(r.headers))
    peer.gate.set()
    r = cl.poll(az_url, acct, lambda j: j["status"] != "pending")
    ck.check("once the peer answers the authorization is valid",
             r.json().get("status") == "valid", r.text)
    try:
        cl.finish(acct, order_url, names=["slow.hold.internal"])
        ck.check("the certificate is issued after the capped holds", True)
    except AssertionError as e:
        ck.check("the certificate is issued after the capped holds", False, str(e))


def hold_counts(url):
    """hearth_holds_total by outcome, and "started"."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    n = {m.group(1): int(m.group(2)) for m in
         re.finditer(r'^hearth_holds_total\{outcome="([a-z]+)"\} ([0-9]+)$', text, re.M)}
    m = re.search(r"^hearth_holds_started_total ([0-9]+)$", text, re.M)
    n["started"] = int(m.group(1)) if m else 0
    return n


def main():
    base, root, http01_port, metrics = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ck = Checks()
    peer = Peer(http01_port)
    try:
        cl = Client(base, root)
        r, acct = cl.new_account(Key("ES256"))
        assert acct is not None, r.text
        answered_at_once(ck, cl, acct, peer)
        capped(ck, cl, acct, peer, metrics)
        n = hold_counts(metrics)
        ck.check("holds answered by the validation are counted",
                 n.get("answered", 0) >= 1, str(n))
        ck.check("holds ended by --hold-max are counted", n.get("cap", 0) >= 2, str(n))
        ck.check("every hold begun has ended, counted once",
                 n["started"] == n.get("answered", 0) + n.get("cap", 0) +
                 n.get("closed", 0), str(n))
    finally:
        peer.close()
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
