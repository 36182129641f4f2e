"""namepolicy.py: the name policy seen by an ACME client (newOrder and
newAuthz against a running hearth). Run by test_namepolicy.sh with Debian's
/usr/bin/python3:

    namepolicy.py default BASE_URL ROOT_CERT
    namepolicy.py custom BASE_URL ROOT_CERT

"default" is a server started with no policy settings (internal names
only); "custom" one started with --allow-dns corp.example.com --allow-dns
corp.internal --deny-dns x.corp.internal --allow-ip 198.51.100.0/24.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmetest import PROBLEM, URN, Checks, Client, Key  # noqa: E402

MODE, BASE, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
C = Client(BASE, ROOT)
T = Checks()


def show(r):
    return f"response: {r.status_code} {r.headers.get('Content-Type')}\n{r.text[:800]}"


def created(name, r):
    T.check(name, r.status_code == 201 and r.json().get("status") == "pending", show(r))


def refused(name, r, detail):
    """rejectedIdentifier (400) whose detail is exactly detail."""
    ct = r.headers.get("Content-Type", "").split(";")[0]
    body = r.json() if ct == PROBLEM else {}
    T.check(name, r.status_code == 400 and body.get("type") == URN + "rejectedIdentifier"
            and body.get("detail") == detail and body.get("status") == 400,
            f"expected detail {detail!r}\n" + show(r))


def authz(acct, value, kind="dns"):
    return C.post(C.dir["newAuthz"], {"identifier": {"type": kind, "value": value}}, acct)


def suite_default(A):
    dns_allowed = ("internal, home.arpa, local, test, localhost, lan, corp, home, "
                   "intranet, private, localdomain")
    created("newOrder for a .corp.internal name passes",
            C.new_order(A, ["web.corp.internal", "*.wild.corp.internal"]))
    created("newOrder for .home.arpa and .test names passes",
            C.new_order(A, ["nas.home.arpa", "ok.test"]))
    created("newOrder for loopback and private addresses passes",
            C.new_order(A, ["127.0.0.1", "10.1.2.3", "fd00::5"], "ip"))
    refused("newOrder for github.com is refused naming the rule",
            C.new_order(A, ["github.com"]),
            f'"github.com" is not under an allowed DNS suffix (allowed: {dns_allowed}; '
            'add one with --allow-dns)')
    refused("a name merely containing an allowed suffix is not under it",
            C.new_order(A, ["a.corp.internal", "internal.example.com"]),
            '"internal.example.com" is not under an allowed DNS suffix (allowed: '
            f'{dns_allowed}; add one with --allow-dns)')
    refused("newOrder for a public address is refused",
            C.new_order(A, ["8.8.8.8"], "ip"),
            '"8.8.8.8" is not in an allowed IP range (allowed: 10.0.0.0/8, '
            '172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, fc00::/7, ::1/128; '
            'add one with --allow-ip)')
    r = C.new_order(A, ["ok.corp.internal", "github.com", "example.org"])
    body = r.json()
    subs = body.get("subproblems", [])
    T.check("several refused identifiers: one compound problem, a subproblem each",
            r.status_code == 403 and body.get("type") == URN + "compound"
            and [s.get("identifier") for s in subs] ==
            [{"type": "dns", "value": "github.com"}, {"type": "dns", "value": "example.org"}]
            and all(s.get("type") == URN + "rejectedIdentifier" for s in subs)
            and all("--allow-dns" in s.get("detail", "") for s in subs), show(r))
    refused("newAuthz for github.com is refused too", authz(A, "github.com"),
            f'"github.com" is not under an allowed DNS suffix (allowed: {dns_allowed}; '
            'add one with --allow-dns)')
    created("newAuthz for a .corp.internal name passes", authz(A, "pre.corp.internal"))
    r = C.new_order(A, ["xn--ls8h.corp.internal"])
    T.check("an emoji A-label is refused by the DNS-name check",
            r.status_code == 400 and r.json().get("type") == URN + "rejectedIdentifier"
            and "IDNA2008" in r.json().get("detail", ""), show(r))
    created("a valid IDN A-label passes", C.new_order(A, ["xn--bcher-kva.corp.internal"]))


def suite_custom(A):
    created("with --allow-dns corp.example.com a name under it passes",
            C.new_order(A, ["www.corp.example.com", "*.apps.corp.example.com"]))
    created("and corp.internal, allowed as well, still passes",
            C.new_order(A, ["web.corp.internal"]))
    refused("suffixes match whole labels: evilcorp.internal is not under corp.internal",
            C.new_order(A, ["evilcorp.internal"]),
            '"evilcorp.internal" is not under an allowed DNS suffix (allowed: '
            'corp.internal, corp.example.com; add one with --allow-dns)')
    refused("--deny-dns x.corp.internal refuses a name under it",
            C.new_order(A, ["db.x.corp.internal"]),
            '"db.x.corp.internal" is under the denied DNS suffix "x.corp.internal"')
    refused("... and a wildcard covering it",
            C.new_order(A, ["*.corp.internal"]),
            '"*.corp.internal" covers the denied DNS suffix "x.corp.internal"')
    refused("an allow rule replaces the default suffixes",
            C.new_order(A, ["ok.test"]),
            '"ok.test" is not under an allowed DNS suffix (allowed: corp.internal, '
            'corp.example.com; add one with --allow-dns)')
    created("--allow-ip 198.51.100.0/24 allows an address in it",
            C.new_order(A, ["198.51.100.7"], "ip"))
    refused("... and replaces the default ranges",
            C.new_order(A, ["10.0.0.1"], "ip"),
            '"10.0.0.1" is not in an allowed IP range (allowed: 198.51.100.0/24; '
            'add one with --allow-ip)')


r, A = C.new_account(Key("ES256"))
T.check("newAccount", A is not None, show(r))
if A is not None:
    {"default": suite_default, "custom": suite_custom}[MODE](A)
sys.exit(T.done())
