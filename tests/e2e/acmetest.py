"""acmetest.py: a small ACME client for hearth's end-to-end tests.

Requests are built by hand (flattened JWS, RFC 8555 §6.2) so a test can send
what no library would: a bad nonce, a foreign alg, both jwk and kid, a broken
signature. Keys come from cryptography; key authorizations and thumbprints are
cross-checked against python3-acme and josepy. The http-01 responder serves
key authorizations on a loopback address for hearth to fetch, the
tls-alpn-01 responder presents certificates made by openssl for the names
hearth asks for, and DnsAdmin drives pebble-challtestsrv's DNS records. Run
with Debian's /usr/bin/python3, which has python3-acme, josepy,
cryptography and requests.
"""
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import josepy as jose
import requests
from acme import challenges
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

URN = "urn:ietf:params:acme:error:"
JOSE = "application/jose+json"
PROBLEM = "application/problem+json"
ADVERTISED_ALGS = ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"]


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- keys -------------------------------------------------------------------

_EC = {
    "ES256": (ec.SECP256R1, hashes.SHA256, 32, "P-256"),
    "ES384": (ec.SECP384R1, hashes.SHA384, 48, "P-384"),
    "ES512": (ec.SECP521R1, hashes.SHA512, 66, "P-521"),
}


class Key:
    """A private key with the JWS algorithm it signs with."""

    def __init__(self, alg="ES256", bits=2048):
        self.alg = alg
        if alg in _EC:
            self.priv = ec.generate_private_key(_EC[alg][0]())
        elif alg in ("RS256", "PS256"):
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        elif alg == "EdDSA":
            self.priv = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)

    def jwk(self):
        """The public JWK (RFC 7517/7518/8037)."""
        pub = self.priv.public_key()
        if self.alg in _EC:
            n = _EC[self.alg][2]
            nums = pub.public_numbers()
            return {"kty": "EC", "crv": _EC[self.alg][3],
                    "x": b64(nums.x.to_bytes(n, "big")), "y": b64(nums.y.to_bytes(n, "big"))}
        if self.alg == "EdDSA":
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        nums = pub.public_numbers()
        return {"kty": "RSA", "n": b64(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                "e": b64(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}

    def thumbprint(self):
        """RFC 7638: SHA-256 of the required members in lexicographic order."""
        canon = json.dumps(self.jwk(), sort_keys=True, separators=(",", ":"))
        return b64(hashlib.sha256(canon.encode()).digest())

    def jose(self):
        """The josepy key (EC and RSA only), for python3-acme."""
        if self.alg in _EC:
            return jose.JWKEC(key=self.priv)
        if self.alg in ("RS256", "PS256"):
            return jose.JWKRSA(key=self.priv)
        raise ValueError("josepy has no key type for " + self.alg)

    def sign(self, data, alg=None):
        alg = alg or self.alg
        if self.alg in _EC:
            der = self.priv.sign(data, ec.ECDSA(_EC[self.alg][1]()))
            r, s = decode_dss_signature(der)
            n = _EC[self.alg][2]
            return r.to_bytes(n, "big") + s.to_bytes(n, "big")
        if self.alg == "EdDSA":
            return self.priv.sign(data)
        if alg == "PS256":
            return self.priv.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                    salt_length=32), hashes.SHA256())
        return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def pem(self):
        return self.priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    @classmethod
    def from_pem(cls, pem, alg):
        k = cls.__new__(cls)
        k.alg = alg
        k.priv = serialization.load_pem_private_key(pem, password=None)
        return k


def make_csr(key, names, cn=None, ips=()):
    """A DER CSR for DNS names and IP addresses (subjectAltName), signed by key."""
    b = x509.CertificateSigningRequestBuilder()
    b = b.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    sans = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algo = None if key.alg == "EdDSA" else (hashes.SHA256() if key.alg not in _EC
                                            else _EC[key.alg][1]())
    return b.sign(key.priv, algo).public_bytes(serialization.Encoding.DER)


def split_pem_chain(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?",
                      text, re.S)


# ---- results ------------------------------------------------------------------

class Checks:
    """ok/FAIL lines like lib.sh, and a summary."""

    def __init__(self):
        self.n = 0
        self.failed = []

    def check(self, name, cond, detail=""):
        self.n += 1
        if cond:
            print("ok: " + name, flush=True)
        else:
            self.failed.append(name)
            print("FAIL: " + name, file=sys.stderr, flush=True)
            if detail:
                print("  " + detail.replace("\n", "\n  "), file=sys.stderr, flush=True)
        return bool(cond)

    def done(self):
        print(f"{self.n} checks, {len(self.failed)} failed", flush=True)
        return 0 if not self.failed else 1


# ---- http-01 responder ---------------------------------------------------------

class Responder:
    """Serves /.well-known/acme-challenge/TOKEN on host:port (127.0.0.1, or
    an IPv6 address such as ::1). seen holds (Host header, path) of every
    request, peers (path, the connecting address)."""

    def __init__(self, port, host="127.0.0.1"):
        self.files = {}
        self.seen = []
        self.peers = []
        self.lock = threading.Lock()
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                prefix = "/.well-known/acme-challenge/"
                token = self.path[len(prefix):] if self.path.startswith(prefix) else None
                with responder.lock:
                    responder.seen.append((self.headers.get("Host"), self.path))
                    responder.peers.append((self.path, self.client_address[0]))
                    status, body, extra = responder.files.get(token, (404, b"not found\n", {}))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        self.server = Server((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, token, body, status=200, headers=None):
        with self.lock:
            self.files[token] = (status, body if isinstance(body, bytes) else body.encode(),
                                 dict(headers or {}))

    def redirect(self, token, location, status=302):
        self.serve(token, b"", status, {"Location": location})

    def requests_for(self, token):
        with self.lock:
            return [s for s in self.seen if s[1].endswith("/" + token)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def serve_directory(webroot, port):
    """A responder in its own process, for tests that restart hearth: serves
    webroot/TOKEN; a file holding "HANG" keeps the request open without an
    answer (a validation hearth is still waiting for). Each request's path
    is appended to webroot/seen.log."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            token = os.path.basename(self.path)
            with open(os.path.join(webroot, "seen.log"), "a") as f:
                f.write(self.path + "\n")
            path = os.path.join(webroot, token)
            body = open(path, "rb").read() if token and os.path.isfile(path) else None
            if body == b"HANG":
                time.sleep(120)
                return
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# ---- tls-alpn-01 responder (RFC 8737) ----------------------------------------------

ACME_TLS_ALPN = "acme-tls/1"
ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31"


def reverse_dns_name(ip):
    """The SNI an IP identifier is validated under (RFC 8738 §6)."""
    return ipaddress.ip_address(ip).reverse_pointer


def alpn_cert(workdir, name, key_authorization=None, digest=None, critical=True,
              extension=True, san=None, issuer=None, subject="/CN=acme-tls-alpn"):
    """A tls-alpn-01 certificate made by openssl req -x509 for a DNS name or
    an IP address: subjectAltName san (default: the name), and the
    acmeIdentifier extension holding digest (default: SHA-256 of the key
    authorization), critical or not, or no such extension. Self-signed, or
    signed by issuer, a (cert, key) pair. (cert, key) paths."""
    is_ip = True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        is_ip = False
    base = os.path.join(workdir, "alpn-" + re.sub(r"[^A-Za-z0-9.-]", "_", name) + "-" +
                        b64(os.urandom(6)))
    if san is None:
        san = ("IP:" if is_ip else "DNS:") + name
    args = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key", "-out",
            base + ".crt", "-days", "1", "-subj", subject,
            "-addext", "subjectAltName=" + san]
    if issuer:
        args += ["-CA", issuer[0], "-CAkey", issuer[1]]
    if extension:
        if digest is None:
            digest = hashlib.sha256(key_authorization.encode()).digest()
        der = "04:20:" + ":".join(f"{b:02x}" for b in digest)
        args += ["-addext", f"{ACME_IDENTIFIER_OID}={'critical,' if critical else ''}DER:{der}"]
    subprocess.run(args, check=True, capture_output=True)
    return base + ".crt", base + ".key"


class TlsAlpnResponder:
    """A TLS server on host:port that presents, to each SNI name, the
    certificate given with serve(name, cert, key), agreeing to ALPN
    acme-tls/1 (or the protocols given). sni lists every server name asked
    for; a name without a certificate ends the handshake."""

    def __init__(self, port, host="127.0.0.1"):
        self.contexts = {}
        self.sni = []
        self.lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.base.set_alpn_protocols([ACME_TLS_ALPN])
        self.base.sni_callback = self._pick
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def serve(self, name, cert, key, alpn=(ACME_TLS_ALPN,)):
        """Presents cert to SNI name, agreeing to the protocols in alpn only."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(list(alpn))
        with self.lock:
            self.contexts[name] = ctx

    def names_seen(self):
        with self.lock:
            return list(self.sni)

    def _pick(self, sslobj, name, _ctx):
        with self.lock:
            self.sni.append(name)
            ctx = self.contexts.get(name)
        if ctx is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sslobj.context = ctx
        return None

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn):
        conn.settimeout(10)
        try:
            with self.base.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)       # the validator closes once it has the certificate
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


# ---- the test DNS server ---------------------------------------------------------

class DnsAdmin:
    """pebble-challtestsrv's management API, as Debian's pebble 2.4 has it:
    POST /set-txt {host, value} (adds a value), /clear-txt {host}, /add-a
    and /add-aaaa {host, addresses}, /set-cname {host, target}, /add-caa
    {host, policies: [{tag, value}]}, /set-servfail {host}. TXT records are
    kept under the exact query name, so hosts are sent absolute and in
    lower case."""

    def __init__(self, url):
        self.url = url
        self.s = requests.Session()
        self.s.trust_env = False

    @staticmethod
    def fqdn(host):
        host = host.lower()
        return host if host.endswith(".") else host + "."

    def _post(self, path, body):
        r = self.s.post(self.url + path, json=body, timeout=10)
        if r.status_code != 200:
            raise AssertionError(f"challtestsrv {path} {body}: {r.status_code} {r.text}")

    def set_txt(self, host, value):
        self._post("/set-txt", {"host": self.fqdn(host), "value": value})

    def clear_txt(self, host):
        self._post("/clear-txt", {"host": self.fqdn(host)})

    def add_a(self, host, addresses):
        self._post("/add-a", {"host": self.fqdn(host), "addresses": list(addresses)})

    def add_aaaa(self, host, addresses):
        self._post("/add-aaaa", {"host": self.fqdn(host), "addresses": list(addresses)})

    def set_cname(self, host, target):
        self._post("/set-cname", {"host": self.fqdn(host), "target": self.fqdn(target)})

    def add_caa(self, host, *policies):
        """policies: (tag, value) pairs."""
        self._post("/add-caa", {"host": self.fqdn(host),
                                "policies": [{"tag": t, "value": v} for t, v in policies]})

    def set_servfail(self, host):
        self._post("/set-servfail", {"host": self.fqdn(host)})


# ---- the client -------------------------------------------------------------------

class Account:
    def __init__(self, key, url):
        self.key = key
        self.url = url


class Client:
    def __init__(self, base, root):
        self.base = base
        self.root = root
        self.s = requests.Session()
        # the root is the only trust: REQUESTS_CA_BUNDLE and friends from the
        # environment would otherwise override a session's verify
        self.s.trust_env = False
        self.s.verify = root
        r = self.s.get(base + "/directory", timeout=30)
        r.raise_for_status()
        self.dir = r.json()
        self.nonces = []
        self.last = ""          # the last request, for failure reports

    def url(self, path):
        return self.base + path

    def new_nonce(self):
        r = self.s.head(self.dir["newNonce"], timeout=30)
        return r.headers["Replay-Nonce"]

    def nonce(self):
        return self.nonces.pop() if self.nonces else self.new_nonce()

    def take_nonce(self, r):
        """The Replay-Nonce of r, taken out of the pool for explicit use."""
        n = r.headers.get("Replay-Nonce")
        if n in self.nonces:
            self.nonces.remove(n)
        return n

    def jws(self, url, payload, key, kid=None, nonce=None, alg=None, header=None,
            drop=(), sign_key=None, signature=None):
        """A flattened JWS as a dict. payload None is POST-as-GET."""
        protected = {"alg": alg or key.alg, "nonce": nonce or self.nonce(), "url": url}
        if kid:
            protected["kid"] = kid
        else:
            protected["jwk"] = key.jwk()
        protected.update(header or {})
        for k in drop:
            protected.pop(k, None)
        if payload is None:
            pl = ""
        elif isinstance(payload, bytes):
            pl = b64(payload)
        else:
            pl = b64(json.dumps(payload))
        p = b64(json.dumps(protected))
        if signature is None:
            signature = b64((sign_key or key).sign(f"{p}.{pl}".encode(), alg))
        self.last = (f"POST {url}\n  protected: {json.dumps(protected)}\n"
                     f"  payload: {payload!r}"[:1500])
        return {"protected": p, "payload": pl, "signature": signature}

    def send(self, url, body, ctype=JOSE):
        """POSTs raw bytes; keeps the response's nonce for later requests."""
        if isinstance(body, dict):
            body = json.dumps(body)
        headers = {"Content-Type": ctype} if ctype else {}
        r = self.s.post(url, data=body, headers=headers, timeout=30)
        if r.headers.get("Replay-Nonce"):
            self.nonces.append(r.headers["Replay-Nonce"])
        return r

    def post(self, url, payload, acct=None, key=None, kid=None, **kw):
        """A signed POST: with acct, by its kid; with key alone, by jwk."""
        if acct is not None:
            key, kid = acct.key, acct.url
        return self.send(url, self.jws(url, payload, key, kid, **kw))

    def get(self, url, acct):
        """POST-as-GET."""
        return self.post(url, None, acct)

    # -- flows --

    def new_account(self, key, contact=None, **payload):
        body = dict(payload)
        body.setdefault("termsOfServiceAgreed", True)
        if contact is not None:
            body["contact"] = contact
        r = self.post(self.dir["newAccount"], body, key=key)
        return r, (Account(key, r.headers.get("Location")) if r.status_code in (200, 201) else None)

    def new_order(self, acct, names, kind="dns"):
        ids = [{"type": kind, "value": n} for n in names]
        return self.post(self.dir["newOrder"], {"identifiers": ids}, acct)

    def key_authorization(self, acct, token):
        """token.thumbprint, from python3-acme where it has the key type."""
        try:
            return challenges.HTTP01(token=b64d(token)).validation(acct.key.jose())
        except ValueError:
            return f"{token}.{acct.key.thumbprint()}"

    def poll(self, url, acct, done, timeout=30):
        """POST-as-GET url until done(json) or timeout; the last response."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(url, acct)
            if r.status_code != 200 or done(r.json()) or time.monotonic() > deadline:
                return r
            time.sleep(0.1)

    def http01(self, authz_json):
        return next(c for c in authz_json["challenges"] if c["type"] == "http-01")

    def challenge(self, authz_json, kind):
        """The authorization's challenge of this type, or None."""
        return next((c for c in authz_json.get("challenges", []) if c["type"] == kind), None)

    def dns01_value(self, acct, token):
        """base64url(SHA-256(key authorization)) (RFC 8555 §8.4), from
        python3-acme where it has the key type."""
        try:
            return challenges.DNS01(token=b64d(token)).validation(acct.key.jose())
        except ValueError:
            return b64(hashlib.sha256(self.key_authorization(acct, token).encode()).digest())

    def respond(self, acct, authz_url, kind):
        """POSTs the authorization's challenge of this type (its answer put in
        place by the caller) without waiting. (the challenge object, the
        POST's response), or raises AssertionError."""
        ch = self.challenge(self.get(authz_url, acct).json(), kind)
        if ch is None:
            raise AssertionError(f"{authz_url} offers no {kind} challenge")
        r = self.post(ch["url"], {}, acct)
        if r.status_code != 200:
            raise AssertionError(f"POST {ch['url']}: {r.status_code} {r.text}")
        return ch, r

    def decided(self, acct, authz_url, ch_url, timeout=30):
        """Waits until hearth decided the authorization; (authz response,
        challenge object)."""
        final = self.poll(authz_url, acct, lambda j: j["status"] != "pending", timeout)
        return final, self.get(ch_url, acct).json()

    def finish(self, acct, order_url, names=(), ips=(), cert_key=None):
        """Finalizes a ready order for these names and addresses and fetches
        the certificate: a dict as from issue(), or raises AssertionError."""
        order = self.get(order_url, acct).json()
        cert_key = cert_key or Key("ES256")
        r = self.post(order["finalize"], {"csr": b64(make_csr(cert_key, names, ips=ips))}, acct)
        if r.status_code != 200:
            raise AssertionError(f"finalize: {r.status_code} {r.text}")
        r = self.poll(order_url, acct, lambda j: j["status"] not in ("processing", "ready"))
        order = r.json()
        if order.get("status") != "valid":
            raise AssertionError(f"order: {r.status_code} {r.text}")
        cr = self.get(order["certificate"], acct)
        if cr.status_code != 200:
            raise AssertionError(f"certificate: {cr.status_code} {cr.text}")
        chain = split_pem_chain(cr.text)
        leaf = x509.load_pem_x509_certificate(chain[0].encode())
        return {"order_url": order_url, "order": order, "cert_url": order["certificate"],
                "pem": cr.text, "chain": chain, "leaf": leaf, "key": cert_key,
                "der": leaf.public_bytes(serialization.Encoding.DER)}

    def solve(self, acct, authz_url, responder, body=None, status=200):
        """Answers the http-01 challenge of an authorization and waits until
        hearth decided. Returns (authz response, challenge object, token)."""
        az = self.get(authz_url, acct).json()
        ch = self.http01(az)
        responder.serve(ch["token"], body if body is not None else
                        self.key_authorization(acct, ch["token"]), status)
        r = self.post(ch["url"], {}, acct)
        if r.status_code != 200:
            return r, None, ch["token"]
        final = self.poll(authz_url, acct, lambda j: j["status"] != "pending")
        chall = self.get(ch["url"], acct).json()
        return final, chall, ch["token"]

    def issue(self, acct, names, responder, cert_key=None):
        """A certificate through the whole flow; a dict of what happened, or
        raises AssertionError with the failing response."""
        r = self.new_order(acct, names)
        if r.status_code != 201:
            raise AssertionError(f"newOrder: {r.status_code} {r.text}")
        order_url = r.headers["Location"]
        order = r.json()
        for az_url in order["authorizations"]:
            az = self.get(az_url, acct).json()
            if az["status"] == "valid":
                continue
            final, _, _ = self.solve(acct, az_url, responder)
            if final.status_code != 200 or final.json()["status"] != "valid":
                raise AssertionError(f"authorization {az_url}: {final.status_code} {final.text}")
        cert_key = cert_key or Key("ES256")
        r = self.post(order["finalize"], {"csr": b64(make_csr(cert_key, names))}, acct)
        if r.status_code != 200:
            raise AssertionError(f"finalize: {r.status_code} {r.text}")
        r = self.poll(order_url, acct, lambda j: j["status"] not in ("processing", "ready"))
        order = r.json()
        if order.get("status") != "valid":
            raise AssertionError(f"order: {r.status_code} {r.text}")
        cr = self.get(order["certificate"], acct)
        if cr.status_code != 200:
            raise AssertionError(f"certificate: {cr.status_code} {cr.text}")
        chain = split_pem_chain(cr.text)
        leaf = x509.load_pem_x509_certificate(chain[0].encode())
        return {"order_url": order_url, "order": order, "cert_url": order["certificate"],
                "pem": cr.text, "chain": chain, "leaf": leaf, "key": cert_key,
                "der": leaf.public_bytes(serialization.Encoding.DER)}


def openssl_verify(root, chain, workdir, name):
    """openssl verify of chain[0] with the rest as untrusted intermediates."""
    leaf = os.path.join(workdir, name + ".leaf.pem")
    inter = os.path.join(workdir, name + ".inter.pem")
    with open(leaf, "w") as f:
        f.write(chain[0])
    with open(inter, "w") as f:
        f.write("".join(chain[1:]))
    p = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", inter,
                        "-purpose", "sslserver", leaf], capture_output=True, text=True)
    return p.returncode == 0 and p.stdout.strip().endswith(": OK"), p.stdout + p.stderr


def raw_post(host, port, root, path, headers, body):
    """A POST over TLS by hand, for bodies a server may cut off; returns the
    status line and the rest of what came back."""
    ctx = ssl.create_default_context(cafile=root)
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=30),
                        server_hostname="localhost")
    head = f"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    try:
        s.sendall(head.encode() + body)
    except OSError:
        pass        # the server may answer and close before the body is sent
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (ssl.SSLError, OSError):
        pass
    s.close()
    line, _, rest = out.partition(b"\r\n")
    return line.decode("latin-1"), rest.decode("latin-1")


def hmac_sha256(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "serve":
    serve_directory(sys.argv[2], int(sys.argv[3]))
