"""rotate_live.py: the load of test_rotate_live.sh, which rotates the
intermediate and sends SIGHUP while certificates are being issued:

    rotate_live.py load BASE_URL ROOT_CERT WEBROOT PHASE_FILE OUT_DIR STOP_FILE CLIENTS
    rotate_live.py one BASE_URL ROOT_CERT WEBROOT OUT_PEM

load  CLIENTS threads, each with an account of its own (python3-acme),
      issue certificates one after another until STOP_FILE exists. Each
      issuance reads PHASE_FILE (a number the test writes) when it begins
      and when it ends, and its full chain is written to
      OUT_DIR/<start>-<end>-<n>.pem (test_rotate_live.sh says what the
      numbers mean).
      Any failure of any request is written to OUT_DIR/failures.txt and the
      client goes on; the test requires that file to stay absent.
one   one issuance with a new account; the full chain in OUT_PEM.
"""
import datetime
import os
import sys
import threading
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import Key, make_csr  # noqa: E402

import josepy as jose  # noqa: E402
from acme import challenges  # noqa: E402
from acme import client as acme_client  # noqa: E402
from acme import messages  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

LOCK = threading.Lock()
COUNT = [0]


def new_client(base, root):
    key = Key("ES256")
    net = acme_client.ClientNetwork(key.jose(), alg=jose.ES256, verify_ssl=root,
                                    user_agent="hearth-rotate-live-test")
    net.session.trust_env = False
    lib = acme_client.ClientV2(messages.Directory.from_json(
        net.get(base + "/directory").json()), net)
    lib.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
    return lib, key


def issue(lib, key, webroot, name):
    """One order for name, answered by http-01 through webroot; the full chain."""
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
                                   datetime.timedelta(seconds=30))
    return orderr.fullchain_pem


def phase(path):
    with open(path) as f:
        return f.read().strip()


def client_loop(base, root, webroot, phase_file, out, stop, n):
    try:
        lib, key = new_client(base, root)
    except Exception:
        with LOCK, open(os.path.join(out, "failures.txt"), "a") as f:
            f.write(f"client {n}: new account\n{traceback.format_exc()}\n")
        return
    i = 0
    while not os.path.exists(stop):
        i += 1
        start = phase(phase_file)
        try:
            chain = issue(lib, key, webroot, f"r{n}-{i}.rotate.internal")
        except Exception:
            with LOCK, open(os.path.join(out, "failures.txt"), "a") as f:
                f.write(f"client {n} issuance {i}:\n{traceback.format_exc()}\n")
            continue
        end = phase(phase_file)
        with LOCK:
            COUNT[0] += 1
            with open(os.path.join(out, f"{start}-{end}-{COUNT[0]}.pem"), "w") as f:
                f.write(chain)


def load(base, root, webroot, phase_file, out, stop, clients):
    threads = [threading.Thread(target=client_loop, args=(base, root, webroot,
               phase_file, out, stop, n)) for n in range(int(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one(base, root, webroot, out_pem):
    lib, key = new_client(base, root)
    chain = issue(lib, key, webroot, f"one-{os.getpid()}.rotate.internal")
    with open(out_pem, "w") as f:
        f.write(chain)


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(*sys.argv[2:9])
    elif sys.argv[1] == "one":
        one(*sys.argv[2:6])
    else:
        sys.exit("usage: rotate_live.py load|one ...")
