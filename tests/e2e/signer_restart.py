"""signer_restart.py: a hung signer process, seen by an ACME client, in
phases that test_signer_restart.sh runs around stopping the signer:

    signer_restart.py PHASE BASE_URL ROOT_CERT WEBROOT STATE_FILE

  ready        an account and an order whose authorization is valid, so
               the order is ready; what later phases need goes to STATE_FILE
  unavailable  (the signer is stopped) finalize answers 503 with a
               serverInternal problem and Retry-After; the order stays ready
  finalize     (the signer was replaced) finalize succeeds and the
               certificate verifies against the root
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import (URN, Account, Checks, Client, Key, b64, make_csr,  # noqa: E402
                      openssl_verify, split_pem_chain)

PHASE, BASE, ROOT, WEBROOT, STATE = sys.argv[1:6]
WORK = os.path.dirname(STATE)
NAME = "signer.corp.internal"
T = Checks()
C = Client(BASE, ROOT)


def show(r):
    return f"request: {C.last}\nresponse: {r.status_code} {r.text[:500]}"


def load():
    with open(STATE) as f:
        st = json.load(f)
    return st, Account(Key.from_pem(st["key"].encode(), "ES256"), st["account"])


def finalize(st, acct):
    csr = make_csr(Key("ES256"), [NAME])
    return C.post(st["finalize"], {"csr": b64(csr)}, acct)


if PHASE == "ready":
    key = Key("ES256")
    r, acct = C.new_account(key)
    T.check("account created", acct is not None, show(r))
    r = C.new_order(acct, [NAME])
    T.check("order created", r.status_code == 201, show(r))
    order_url, order = r.headers.get("Location"), r.json()
    authz_url = order["authorizations"][0]
    ch = C.http01(C.get(authz_url, acct).json())
    with open(os.path.join(WEBROOT, ch["token"]), "w") as f:
        f.write(C.key_authorization(acct, ch["token"]))
    C.post(ch["url"], {}, acct)
    r = C.poll(authz_url, acct, lambda j: j["status"] != "pending")
    T.check("authorization valid", r.json().get("status") == "valid", show(r))
    r = C.get(order_url, acct)
    T.check("order ready", r.json().get("status") == "ready", show(r))
    with open(STATE, "w") as f:
        json.dump({"key": key.pem().decode(), "account": acct.url, "order": order_url,
                   "finalize": order["finalize"]}, f)
elif PHASE == "unavailable":
    st, acct = load()
    r = finalize(st, acct)
    T.check("finalize with a hung signer is 503", r.status_code == 503, show(r))
    T.check("... a serverInternal problem",
            r.headers.get("Content-Type") == "application/problem+json"
            and r.json().get("type") == URN + "serverInternal", show(r))
    T.check("... with Retry-After in seconds",
            r.headers.get("Retry-After", "").isdigit(), show(r))
    r = C.get(st["order"], acct)
    T.check("the order is still ready", r.json().get("status") == "ready", show(r))
elif PHASE == "finalize":
    st, acct = load()
    r = finalize(st, acct)
    T.check("finalize after the restart succeeds", r.status_code == 200, show(r))
    r = C.poll(st["order"], acct, lambda j: j["status"] not in ("processing", "ready"))
    order = r.json()
    T.check("the order is valid", order.get("status") == "valid", show(r))
    cr = C.get(order.get("certificate", st["order"]), acct)
    chain = split_pem_chain(cr.text) if cr.status_code == 200 else []
    ok, out = openssl_verify(ROOT, chain, WORK, "restarted") if chain else (False, cr.text)
    T.check("the certificate verifies against the root", ok, out)
else:
    sys.exit(f"unknown phase {PHASE}")
sys.exit(T.done())
