"""restart.py: what hearth must keep across restarts, in phases that
test_restart.sh runs around stopping and starting the server:

    restart.py PHASE BASE_URL ROOT_CERT WEBROOT STATE_FILE

The challenge files are written into WEBROOT, which a separate responder
process (acmetest.py serve) serves on the http-01 port for every phase.

  issue   python3-acme registers and gets a certificate; a second order is
          left pending; everything needed later goes to STATE_FILE
  check   (after a clean restart) the account, its orders list, the valid
          order, the certificate download; a nonce from before the restart;
          the pending order is completed; the first certificate is revoked
  crash   a validation is started that the responder never answers (it
          holds the request); the shell then kills hearth with SIGKILL
  unhang  (hearth down) the challenge file gets the key authorization
  resume  (after starting again) the interrupted validation is resumed and
          completes; the revocation of the check phase is still there
"""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import (URN, Account, Checks, Client, Key, b64, make_csr,  # noqa: E402
                      openssl_verify, split_pem_chain)

import josepy as jose  # noqa: E402
from acme import challenges  # noqa: E402
from acme import client as acme_client  # noqa: E402
from acme import messages  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

PHASE, BASE, ROOT, WEBROOT, STATE = sys.argv[1:6]
WORK = os.path.dirname(STATE)
T = Checks()
C = Client(BASE, ROOT) if PHASE != "unhang" else None


def show(r):
    return f"request: {C.last}\nresponse: {r.status_code} {r.text[:500]}"


def load():
    with open(STATE) as f:
        st = json.load(f)
    acct = Account(Key.from_pem(st["key"].encode(), "ES256"), st["account"])
    return st, acct


def save(st):
    with open(STATE, "w") as f:
        json.dump(st, f, indent=1)


def publish(token, content):
    with open(os.path.join(WEBROOT, token), "w") as f:
        f.write(content)


def solve(acct, authz_url):
    """Writes the key authorization, answers, waits for a decision."""
    ch = C.http01(C.get(authz_url, acct).json())
    publish(ch["token"], C.key_authorization(acct, ch["token"]))
    C.post(ch["url"], {}, acct)
    return C.poll(authz_url, acct, lambda j: j["status"] != "pending")


def der_b64(pem):
    return b64(x509.load_pem_x509_certificate(pem.encode()).public_bytes(
        serialization.Encoding.DER))


if PHASE == "issue":
    key = Key("ES256")
    net = acme_client.ClientNetwork(key.jose(), alg=jose.ES256, verify_ssl=ROOT,
                                    user_agent="hearth-e2e")
    lib = acme_client.ClientV2(messages.Directory.from_json(
        net.get(BASE + "/directory").json()), net)
    regr = lib.new_account(messages.NewRegistration.from_data(
        email="restart@corp.internal", terms_of_service_agreed=True))
    cert_key = Key("ES256")
    csr_pem = x509.load_der_x509_csr(make_csr(cert_key, ["restart.corp.internal"])).public_bytes(
        serialization.Encoding.PEM)
    orderr = lib.new_order(csr_pem)
    for authzr in orderr.authorizations:
        for chb in authzr.body.challenges:
            if isinstance(chb.chall, challenges.HTTP01):
                resp, validation = chb.response_and_validation(key.jose())
                publish(chb.chall.encode("token"), validation)
                lib.answer_challenge(chb, resp)
    orderr = lib.poll_and_finalize(orderr, datetime.datetime.now() +
                                   datetime.timedelta(seconds=60))
    chain = split_pem_chain(orderr.fullchain_pem)
    ok, out = openssl_verify(ROOT, chain, WORK, "before-restart")
    T.check("python3-acme got a certificate before the restart", ok, out)
    acct = Account(key, regr.uri)
    r = C.new_order(acct, ["later.corp.internal"])
    T.check("a second order is left pending", r.status_code == 201 and
            r.json().get("status") == "pending", show(r))
    save({"key": key.pem().decode(), "account": regr.uri, "order": orderr.uri,
          "cert_url": orderr.body.certificate, "fullchain": orderr.fullchain_pem,
          "pending": r.headers.get("Location"), "nonce": C.new_nonce()})

elif PHASE == "check":
    st, acct = load()
    r = C.post(st["account"], None, acct, nonce=st["nonce"])
    if r.status_code == 400:
        T.check("a nonce from before the restart is refused with badNonce",
                r.json().get("type") == URN + "badNonce", show(r))
        r = C.post(st["account"], None, acct, nonce=C.take_nonce(r))
    T.check("the account is still there and valid",
            r.status_code == 200 and r.json().get("status") == "valid"
            and r.json().get("key") == acct.key.jwk(), show(r))
    r, _ = C.new_account(acct.key, onlyReturnExisting=True)
    T.check("onlyReturnExisting still finds it",
            r.status_code == 200 and r.headers.get("Location") == st["account"], show(r))
    orders_url = C.get(st["account"], acct).json().get("orders")
    r = C.get(orders_url, acct)
    T.check("its orders list still holds both orders",
            r.status_code == 200 and set(r.json().get("orders", [])) ==
            {st["order"], st["pending"]}, show(r))
    r = C.get(st["order"], acct)
    T.check("the finished order is still valid with its certificate",
            r.status_code == 200 and r.json().get("status") == "valid"
            and r.json().get("certificate") == st["cert_url"], show(r))
    r = C.get(st["cert_url"], acct)
    T.check("the certificate downloads (POST-as-GET) as issued",
            r.status_code == 200 and r.text == st["fullchain"], show(r))
    order = C.get(st["pending"], acct).json()
    T.check("the pending order is still pending", order.get("status") == "pending",
            json.dumps(order))
    final = solve(acct, order["authorizations"][0])
    T.check("its authorization validates after the restart",
            final.json().get("status") == "valid", show(final))
    r = C.post(order["finalize"], {"csr": b64(make_csr(Key("ES256"), ["later.corp.internal"]))},
               acct)
    T.check("and it is finalized", r.status_code == 200 and r.json().get("status") == "valid",
            show(r))
    if r.status_code == 200:
        chain = split_pem_chain(C.get(r.json()["certificate"], acct).text)
        ok, out = openssl_verify(ROOT, chain, WORK, "after-restart")
        T.check("the certificate issued after the restart verifies", ok, out)
    r = C.post(C.dir["revokeCert"], {"certificate": der_b64(split_pem_chain(st["fullchain"])[0]),
                                     "reason": 4}, acct)
    T.check("the certificate from before the restart is revoked", r.status_code == 200, show(r))
    r = C.post(C.dir["revokeCert"], {"certificate": der_b64(split_pem_chain(st["fullchain"])[0])},
               acct)
    T.check("a second revocation is alreadyRevoked",
            r.status_code == 400 and r.json().get("type") == URN + "alreadyRevoked", show(r))

elif PHASE == "crash":
    st, acct = load()
    r = C.new_order(acct, ["crash.corp.internal"])
    az_url = r.json()["authorizations"][0]
    ch = C.http01(C.get(az_url, acct).json())
    publish(ch["token"], "HANG")
    r = C.post(ch["url"], {}, acct)
    T.check("a validation starts", r.status_code == 200, show(r))
    seen = os.path.join(WEBROOT, "seen.log")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(seen) and ch["token"] in open(seen).read():
            break
        time.sleep(0.05)
    T.check("hearth is waiting on the challenge file",
            os.path.exists(seen) and ch["token"] in open(seen).read())
    r = C.get(ch["url"], acct)
    T.check("the challenge is processing", r.json().get("status") == "processing", show(r))
    st.update(crash_authz=az_url, crash_token=ch["token"],
              crash_keyauth=C.key_authorization(acct, ch["token"]))
    save(st)

elif PHASE == "unhang":
    st, acct = load()
    publish(st["crash_token"], st["crash_keyauth"])
    T.check("the challenge file now holds the key authorization", True)

elif PHASE == "resume":
    st, acct = load()
    r = C.poll(st["crash_authz"], acct, lambda j: j["status"] != "pending")
    T.check("the interrupted validation was resumed and succeeded",
            r.status_code == 200 and r.json().get("status") == "valid", show(r))
    r = C.post(C.dir["revokeCert"], {"certificate": der_b64(split_pem_chain(st["fullchain"])[0])},
               acct)
    T.check("the revocation survived the crash",
            r.status_code == 400 and r.json().get("type") == URN + "alreadyRevoked", show(r))

else:
    sys.exit("unknown phase " + PHASE)

sys.exit(T.done())
