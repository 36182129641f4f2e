"""renewal.py: renewal information (RFC 9773) and certificate profiles
(draft-ietf-acme-profiles) against a running hearth, by raw requests
(certbot 2.1 and lego 4.9 predate both). Run by test_renewal.sh with
Debian's /usr/bin/python3:

    renewal.py BASE_URL ROOT_CERT HTTP01_PORT WORK_DIR

Profiles (the server runs with the two defaults and a "client" profile):
the directory lists them, a "shortlived" certificate lives about six days
and a "classic" one 90, a "client" one has only clientAuth (read back with
openssl), an unknown name is invalidProfile. ARI: the certID is rebuilt here from the certificate,
the window lies in the last third of the validity with Retry-After, a
revoked certificate's window ends now, "replaces" is accepted once and
answered alreadyReplaced the second time.
"""
import datetime
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import PROBLEM, URN, Checks, Client, Key, Responder, b64  # noqa: E402

from cryptography import x509  # noqa: E402

BASE, ROOT, HTTP01_PORT, WORK = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
C = Client(BASE, ROOT)
T = Checks()
web = Responder(HTTP01_PORT)


def show(r):
    return f"request: {C.last}\nresponse: {r.status_code}\n{r.text[:600]}"


def problem(name, r, code, typ):
    body = r.json() if r.headers.get("Content-Type", "").startswith(PROBLEM) else {}
    T.check(name, r.status_code == code and body.get("type") == URN + typ, show(r))


def order(acct, names, **extra):
    payload = {"identifiers": [{"type": "dns", "value": n} for n in names]}
    payload.update(extra)
    return C.post(C.dir["newOrder"], payload, acct)


def issue(acct, names, **extra):
    """A certificate through newOrder with extra members; the dict of
    Client.finish, or raises AssertionError."""
    r = order(acct, names, **extra)
    if r.status_code != 201:
        raise AssertionError(f"newOrder: {r.status_code} {r.text}")
    for az_url in r.json()["authorizations"]:
        if C.get(az_url, acct).json()["status"] != "valid":
            final, _, _ = C.solve(acct, az_url, web)
            if final.json().get("status") != "valid":
                raise AssertionError(f"authorization: {final.text}")
    return C.finish(acct, r.headers["Location"], names=names)


def openssl_lifetime(pem, name):
    """notAfter - notBefore as openssl reads the certificate."""
    path = os.path.join(WORK, name + ".pem")
    with open(path, "w") as f:
        f.write(pem)
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-dates", "-dateopt",
                          "iso_8601"], capture_output=True, text=True, check=True).stdout
    dates = dict(line.split("=", 1) for line in out.strip().splitlines())

    def parse(s):
        return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%SZ")
    return parse(dates["notAfter"]) - parse(dates["notBefore"])


def cert_id(leaf):
    """RFC 9773 §4.1, from the certificate: AKI keyIdentifier "." serial
    as DER INTEGER contents."""
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    n = leaf.serial_number
    serial = n.to_bytes(n.bit_length() // 8 + 1, "big")   # room for the sign bit
    return b64(aki.key_identifier) + "." + b64(serial)


def renewal_info(cid):
    return C.s.get(C.dir["renewalInfo"] + "/" + cid, timeout=30)


def window(r):
    w = r.json()["suggestedWindow"]

    def parse(s):
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    return parse(w["start"]), parse(w["end"])


print("-- profiles", flush=True)
meta = C.dir.get("meta", {})
T.check("the directory lists the configured profiles",
        list(meta.get("profiles", {})) == ["classic", "shortlived", "client"], str(C.dir))
T.check("the directory has renewalInfo",
        C.dir.get("renewalInfo") == BASE + "/acme/renewal-info", str(C.dir))
_, A = C.new_account(Key("ES256"))
_, B = C.new_account(Key("ES256"))

r = order(A, ["bad-profile.corp.internal"], profile="no-such-profile")
problem("an unknown profile is invalidProfile", r, 400, "invalidProfile")
r = order(A, ["default.corp.internal"])
T.check("an order without a profile shows the default's name",
        r.status_code == 201 and r.json().get("profile") == "classic", show(r))

short = issue(A, ["short.corp.internal"], profile="shortlived")
T.check("the order object carries the profile",
        short["order"].get("profile") == "shortlived", str(short["order"]))
life = openssl_lifetime(short["chain"][0], "short")
T.check("a shortlived certificate lives about six days (openssl)",
        datetime.timedelta(days=5) < life <= datetime.timedelta(days=7), str(life))
classic = issue(A, ["classic.corp.internal"], profile="classic")
life = openssl_lifetime(classic["chain"][0], "classic")
T.check("a classic certificate lives 90 days (openssl)",
        abs(life - datetime.timedelta(days=90)) <= datetime.timedelta(minutes=5), str(life))

client = issue(A, ["client.corp.internal"], profile="client")
path = os.path.join(WORK, "client.pem")
with open(path, "w") as f:
    f.write(client["chain"][0])
eku = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-ext", "extendedKeyUsage"],
                     capture_output=True, text=True).stdout
T.check("a profile configured with clientAuth gives only that usage (openssl)",
        "TLS Web Client Authentication" in eku and "Server" not in eku, eku)
life = openssl_lifetime(client["chain"][0], "client")
T.check("and its configured lifetime of 7 days (openssl)",
        abs(life - datetime.timedelta(days=7)) <= datetime.timedelta(minutes=5), str(life))

print("-- renewal information", flush=True)
leaf = classic["leaf"]
cid = cert_id(leaf)
r = renewal_info(cid)
T.check("renewalInfo answers 200 with JSON", r.status_code == 200
        and r.headers.get("Content-Type", "").startswith("application/json"), show(r))
T.check("with Retry-After of six hours", r.headers.get("Retry-After") == "21600", str(r.headers))
nb, na = leaf.not_valid_before.replace(tzinfo=datetime.timezone.utc), \
    leaf.not_valid_after.replace(tzinfo=datetime.timezone.utc)
start, end = window(r)
T.check("the window lies in the last third of the validity",
        nb + (na - nb) * 2 / 3 - datetime.timedelta(seconds=2) <= start < end < na,
        f"{nb} {na}: {start} {end}")
T.check("from two thirds to five sixths",
        abs(start - (nb + (na - nb) * 2 / 3)) < datetime.timedelta(seconds=2)
        and abs(end - (nb + (na - nb) * 5 / 6)) < datetime.timedelta(seconds=2),
        f"{start} {end}")
problem("an unknown certID is 404", renewal_info(cid.split(".")[0] + ".AQID"), 404, "malformed")
problem("a malformed certID is malformed", renewal_info("not-a-cert-id"), 400, "malformed")
problem("a certID with padding is malformed", renewal_info(cid + "="), 400, "malformed")

print("-- replaces", flush=True)
short_id = cert_id(short["leaf"])
r = order(B, ["short.corp.internal"], replaces=short_id)
problem("replacing another account's certificate is unauthorized", r, 403, "unauthorized")
r = order(A, ["other.corp.internal"], replaces=short_id)
problem("replacing with no identifier in common is malformed", r, 400, "malformed")
r = order(A, ["short.corp.internal"], replaces=short_id, profile="shortlived")
T.check("replaces is accepted once and shown in the order",
        r.status_code == 201 and r.json().get("replaces") == short_id, show(r))
r = order(A, ["short.corp.internal"], replaces=short_id)
problem("a second replacement is alreadyReplaced", r, 409, "alreadyReplaced")
# The replacement is issued: the replaced certificate records it, so it
# stays replaced once the replacing order is cleaned up (test_renewal.sh
# reads this back with `hearth certs show`).
classic_id = cert_id(classic["leaf"])
successor = issue(A, ["classic.corp.internal"], replaces=classic_id)
with open(os.path.join(WORK, "replaced.txt"), "w") as f:
    f.write("%x %x\n" % (classic["leaf"].serial_number, successor["leaf"].serial_number))
r = order(A, ["classic.corp.internal"], replaces=classic_id)
problem("a certificate whose replacement was issued is alreadyReplaced", r, 409,
        "alreadyReplaced")

print("-- revoked", flush=True)
r = C.post(C.dir["revokeCert"], {"certificate": b64(classic["der"])}, A)
T.check("the classic certificate is revoked", r.status_code == 200, show(r))
r = renewal_info(cid)
start, end = window(r)
now = datetime.datetime.now(datetime.timezone.utc)
T.check("a revoked certificate's window ends now, so clients renew at once",
        r.status_code == 200 and start < end <= now + datetime.timedelta(seconds=5)
        and end > now - datetime.timedelta(minutes=5), f"{start} {end} (now {now})")

web.close()
sys.exit(T.done())
