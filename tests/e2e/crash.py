"""crash.py: the load and the checks of test_crash.sh, which kills hearth
with SIGKILL under load and starts it again:

    crash.py load BASE_URL ROOT_CERT WEBROOT RECEIVED STOP_FILE CLIENTS
    crash.py check BASE_URL ROOT_CERT RECEIVED CHECKED [final]

load   CLIENTS threads, each with python3-acme, issue certificates over and
       over (a new account per attempt, so account writes are under load
       too) until STOP_FILE exists. Whenever a client has received a
       certificate it appends one JSON line to RECEIVED: the account key
       and URL, the certificate URL, the chain as received and its serial.
       A failure (hearth killed mid-request, refused while it is down)
       abandons that attempt and starts a new one after a short pause.
check  for every certificate in RECEIVED not yet in CHECKED: POST-as-GET
       its URL with the account that ordered it must give the chain as the
       client received it, and revokeCert by that account must succeed;
       each one checked is appended to CHECKED. With "final", every
       certificate in CHECKED is fetched again and must still download as
       received and answer alreadyRevoked to a second revocation.
"""
import datetime
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import URN, Account, Checks, Client, Key, b64, make_csr  # noqa: E402

import josepy as jose  # noqa: E402
from acme import challenges  # noqa: E402
from acme import client as acme_client  # noqa: E402
from acme import messages  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

WRITE_LOCK = threading.Lock()


def leaf_pem(chain):
    end = "-----END CERTIFICATE-----"
    return chain[:chain.index(end) + len(end)] + "\n"


def issue_one(base, root, webroot, n, i):
    """One whole issuance; the record to keep, or an exception."""
    key = Key("ES256")
    net = acme_client.ClientNetwork(key.jose(), alg=jose.ES256, verify_ssl=root,
                                    user_agent="hearth-crash-test")
    net.session.trust_env = False
    lib = acme_client.ClientV2(messages.Directory.from_json(
        net.get(base + "/directory").json()), net)
    regr = lib.new_account(messages.NewRegistration.from_data(
        terms_of_service_agreed=True))
    name = f"c{n}-{i}-{os.getpid()}.crash.internal"
    csr = x509.load_der_x509_csr(make_csr(Key("ES256"), [name])).public_bytes(
        serialization.Encoding.PEM)
    orderr = lib.new_order(csr)
    for authzr in orderr.authorizations:
        for chb in authzr.body.challenges:
            if isinstance(chb.chall, challenges.HTTP01):
                resp, validation = chb.response_and_validation(key.jose())
                with open(os.path.join(webroot, chb.chall.encode("token")), "w") as f:
                    f.write(validation)
                lib.answer_challenge(chb, resp)
    orderr = lib.poll_and_finalize(orderr, datetime.datetime.now() +
                                   datetime.timedelta(seconds=20))
    cert = x509.load_pem_x509_certificate(orderr.fullchain_pem.encode())
    return {"key": key.pem().decode(), "account": regr.uri,
            "cert_url": orderr.body.certificate, "fullchain": orderr.fullchain_pem,
            "serial": format(cert.serial_number, "X"), "name": name}


def client_loop(args, n):
    base, root, webroot, received, stop = args
    i = 0
    while not os.path.exists(stop):
        i += 1
        try:
            rec = issue_one(base, root, webroot, n, i)
        except Exception:   # killed mid-request, or down: try again
            time.sleep(0.2)
            continue
        with WRITE_LOCK, open(received, "a") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()


def load(base, root, webroot, received, stop, clients):
    threads = [threading.Thread(target=client_loop, args=((base, root, webroot,
               received, stop), n)) for n in range(int(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def der_b64(pem):
    return b64(x509.load_pem_x509_certificate(pem.encode()).public_bytes(
        serialization.Encoding.DER))


def check_new(C, T, rec):
    """Downloads and revokes one certificate a client received."""
    acct = Account(Key.from_pem(rec["key"].encode(), "ES256"), rec["account"])
    r = C.get(rec["cert_url"], acct)
    T.check(f"{rec['serial']} ({rec['name']}) downloads as received",
            r.status_code == 200 and r.text == rec["fullchain"],
            f"{r.status_code} {r.text[:300]}")
    r = C.post(C.dir["revokeCert"], {"certificate": der_b64(leaf_pem(rec["fullchain"]))},
               acct)
    T.check(f"{rec['serial']} is revoked by its account", r.status_code == 200,
            f"{r.status_code} {r.text[:300]}")


def check_final(C, T, rec):
    """A certificate checked after an earlier crash: still there, still revoked."""
    acct = Account(Key.from_pem(rec["key"].encode(), "ES256"), rec["account"])
    r = C.get(rec["cert_url"], acct)
    ok = r.status_code == 200 and r.text == rec["fullchain"]
    r2 = C.post(C.dir["revokeCert"], {"certificate": der_b64(leaf_pem(rec["fullchain"]))},
                acct)
    revoked = r2.status_code == 400 and r2.json().get("type") == URN + "alreadyRevoked"
    T.check(f"{rec['serial']} still downloads and is still revoked", ok and revoked,
            f"{r.status_code} / {r2.status_code} {r2.text[:300]}")


def check(base, root, received, checked, final=False):
    C = Client(base, root)
    T = Checks()
    done = {rec["serial"] for rec in read_lines(checked)}
    for rec in read_lines(received):
        if rec["serial"] in done:
            continue
        check_new(C, T, rec)
        done.add(rec["serial"])
        with open(checked, "a") as f:
            f.write(json.dumps(rec) + "\n")
    if final:
        recs = read_lines(checked)
        for rec in recs:
            check_final(C, T, rec)
        print(f"{len(recs)} certificates received in all, each checked")
    sys.exit(T.done())


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(*sys.argv[2:8])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:6], final=len(sys.argv) > 6 and sys.argv[6] == "final")
    else:
        sys.exit("usage: crash.py load|check ...")
