"""eab.py: external account binding (RFC 8555 §7.3.4) request by request
against a running hearth started with --eab-required. Keys come from
`hearth eab add` run on the server's data directory while it serves. Run
by test_eab.sh with Debian's /usr/bin/python3:

    eab.py BASE_URL ROOT_CERT HEARTH_BIN DATA_DIR USED_KID USED_HMAC

USED_KID/USED_HMAC is a key that already bound an account.
"""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import PROBLEM, URN, Checks, Client, Key, b64, b64d  # noqa: E402

BASE, ROOT, HEARTH, DATA, USED_KID, USED_HMAC = sys.argv[1:7]
C = Client(BASE, ROOT)
T = Checks()
HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# the server's store when it is not DATA/db (lib.sh's store_location)
STORE = ["--store", os.environ["HEARTH_STORE"]] if os.environ.get("HEARTH_STORE") else []


def eab_add(*args):
    """A new key from `hearth eab add`: (kid, hmac)."""
    out = subprocess.run([HEARTH, "eab", "add", "--data", DATA, *STORE, *args], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert len(out) == 2 and out[0].startswith("kid: ") and out[1].startswith("hmac: "), out
    return out[0][5:], out[1][6:]


def binding(key, kid, mac_key, alg="HS256", url=None, extra=None):
    """The externalAccountBinding JWS for account key `key`."""
    prot = {"alg": alg, "kid": kid, "url": url or C.dir["newAccount"]}
    prot.update(extra or {})
    p, pl = b64(json.dumps(prot)), b64(json.dumps(key.jwk()))
    mac = hmac.new(b64d(mac_key), f"{p}.{pl}".encode(), HASHES[alg]).digest()
    return {"protected": p, "payload": pl, "signature": b64(mac)}


def show(r):
    return f"request: {C.last}\nresponse: {r.status_code}\n{r.text[:600]}"


def problem(name, r, code, typ, detail=None):
    body = r.json() if r.headers.get("Content-Type", "").startswith(PROBLEM) else {}
    ok = (r.status_code == code and body.get("type") == URN + typ and
          (detail is None or detail in body.get("detail", "")))
    T.check(name, ok, show(r))


def created(name, r):
    T.check(name, r.status_code == 201, show(r))


print("-- directory and required bindings", flush=True)
T.check("directory says externalAccountRequired",
        C.dir.get("meta", {}).get("externalAccountRequired") is True, json.dumps(C.dir))
r, _ = C.new_account(Key("ES256"))
problem("newAccount without a binding", r, 401, "externalAccountRequired")
r, _ = C.new_account(Key("ES256"), onlyReturnExisting=True)
problem("onlyReturnExisting for an unknown key is accountDoesNotExist", r, 400,
        "accountDoesNotExist")

print("-- good bindings, each alg", flush=True)
for alg in ("HS256", "HS384", "HS512"):
    kid, mac = eab_add("--label", "raw " + alg)
    k = Key("ES256")
    b = binding(k, kid, mac, alg)
    r, acct = C.new_account(k, externalAccountBinding=b)
    created(f"newAccount bound with {alg}", r)
    T.check("... the account object carries the binding as sent",
            r.status_code == 201 and r.json().get("externalAccountBinding") == b, show(r))
    if acct:
        r, _ = C.new_account(k)
        T.check("... the existing account is found again without a binding",
                r.status_code == 200 and r.headers.get("Location") == acct.url, show(r))

print("-- refusals", flush=True)
kid, mac = eab_add("--label", "refusals")
k = Key("ES256")
r, _ = C.new_account(k, externalAccountBinding=binding(k, kid, b64(b"x" * 32)))
problem("a wrong MAC", r, 403, "unauthorized", "MAC does not verify")
r, _ = C.new_account(k, externalAccountBinding=binding(k, kid, mac, url=C.dir["newOrder"]))
problem("a url other than newAccount", r, 400, "malformed", "url")
r, _ = C.new_account(k, externalAccountBinding=binding(k, kid, mac,
                                                       extra={"nonce": C.new_nonce()}))
problem("a nonce in the binding", r, 400, "malformed", "nonce")
r, _ = C.new_account(k, externalAccountBinding=binding(Key("ES256"), kid, mac))
problem("a binding of another account key", r, 400, "malformed", "account key")
r, _ = C.new_account(k, externalAccountBinding=binding(k, "0" * 32, mac))
problem("an unknown kid", r, 403, "unauthorized", "not a key of this server")
r, _ = C.new_account(k, externalAccountBinding=binding(k, USED_KID, USED_HMAC))
problem("a key that already bound an account", r, 403, "unauthorized", "already used")

ekid, emac = eab_add("--expires", "1s")
time.sleep(2.5)  # the key's one second has passed: the clock only moves on
r, _ = C.new_account(k, externalAccountBinding=binding(k, ekid, emac))
problem("an expired key", r, 403, "unauthorized", "expired")

rkid, rmac = eab_add("--label", "revoked")
subprocess.run([HEARTH, "eab", "revoke", "--data", DATA, *STORE, rkid], check=True,
               capture_output=True)
r, _ = C.new_account(k, externalAccountBinding=binding(k, rkid, rmac))
problem("a revoked key", r, 403, "unauthorized", "revoked")

# the refusals above consumed nothing: the key still binds k's account
r, _ = C.new_account(k, onlyReturnExisting=True, externalAccountBinding=binding(k, kid, mac))
problem("onlyReturnExisting with a binding creates nothing", r, 400, "accountDoesNotExist")
r, _ = C.new_account(k, externalAccountBinding=binding(k, kid, mac))
created("the key still binds after every refusal", r)

print("-- two accounts racing for one key", flush=True)
kid, mac = eab_add("--label", "race")
keys = [Key("ES256") for _ in range(4)]
bodies = [C.jws(C.dir["newAccount"], {"termsOfServiceAgreed": True,
                                      "externalAccountBinding": binding(kk, kid, mac)}, kk)
          for kk in keys]
results = [None] * len(keys)
start = threading.Barrier(len(keys))


def race(i):
    start.wait()
    results[i] = C.s.post(C.dir["newAccount"], data=json.dumps(bodies[i]),
                          headers={"Content-Type": "application/jose+json"}, timeout=30)


threads = [threading.Thread(target=race, args=(i,)) for i in range(len(keys))]
for t in threads:
    t.start()
for t in threads:
    t.join()
codes = sorted(r.status_code for r in results)
T.check("exactly one of four racing newAccounts wins the key", codes == [201, 403, 403, 403],
        str([(r.status_code, r.text[:200]) for r in results]))
T.check("... the others are told it is already used",
        all("already used" in r.text for r in results if r.status_code == 403),
        str([r.text[:200] for r in results]))

sys.exit(T.done())
