#!/usr/bin/python3
"""check_deploy.py SRC: the offline check of deploy/k8s and deploy/container.

No cluster and no container runtime run here, so this reads the files and
asserts what hearth depends on: every YAML document parses; the probes ask
the admin listener's /healthz and /readyz on the port --admin-listen names;
the data volume is mounted where --data points; the Secret, Service ports
and names the manifests refer to exist; the ClusterIssuer and Traefik talk
to the Service's URL ending in /directory, under a name the server's
certificate carries, with an external account binding; the Dockerfile is
multi-stage on Debian 12, runs as a non-root user and declares the data
volume. Prints one line per check; exits 1 when one fails.
"""
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

CHECKS = []


def check(what, ok):
    CHECKS.append(bool(ok))
    print(("ok: " if ok else "FAIL: ") + what)


def flag(args, name):
    """The value after the last `name` in an argument list, or None."""
    vals = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    return vals[-1] if vals else None


def flags(args, name):
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]


def port_of(addr):
    """The port of ADDR:PORT or :PORT."""
    return int(addr.rsplit(":", 1)[1])


def load_k8s(k8s):
    docs = []
    for path in sorted(k8s.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            ok = all(k in doc for k in ("apiVersion", "kind", "metadata")) and \
                "name" in doc["metadata"]
            check(f"{path.name}: {doc.get('kind')} has apiVersion, kind and a name", ok)
            docs.append(doc)
    return docs


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and
             (name is None or d["metadata"]["name"] == name)]
    check(f"one {kind}{' ' + name if name else ''}", len(found) == 1)
    return found[0] if found else {}


def container_port(c, port):
    """A probe's or Service's port (a name or a number) as a number."""
    if isinstance(port, int):
        return port
    for p in c.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def check_statefulset(docs):
    sts = one(docs, "StatefulSet", "hearth")
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c["args"]
    data = flag(args, "--data")
    check("serve is the container's command", args[0] == "serve")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    claims = [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]]
    check("--data is a volume claim's mount path",
          any(mounts.get(n) == data for n in claims))
    admin = port_of(flag(args, "--admin-listen") or "127.0.0.1:9180")
    check("the admin listener listens on all addresses (the kubelet probes the pod IP)",
          flag(args, "--admin-listen").startswith(":"))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet", {})
        check(f"{probe} asks {path}", get.get("path") == path)
        check(f"{probe} asks the admin listener's port {admin}",
              container_port(c, get.get("port")) == admin)
    check("the readiness probe waits 6 s or more (a hung signer holds /readyz 5 s)",
          c["readinessProbe"].get("timeoutSeconds", 1) >= 6)
    sec = pod["securityContext"]
    check("the pod runs as a non-root user", sec.get("runAsNonRoot") is True and
          sec.get("runAsUser", 0) != 0)
    return sts, pod, c, args, data


def check_init(docs, pod, data):
    init = pod["initContainers"][0]
    script = " ".join(init["command"] + init["args"])
    mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    check("the init container mounts the data volume where serve does",
          mounts.get("data") == data)
    check("the init container runs hearth init on --data only when no CA is there",
          f"hearth init --data {data}" in script and f"{data}/ca/root.crt" in script)
    secret_vol = next((n for n in mounts if "secret" in vols.get(n, {})), None)
    check("the init container mounts a Secret", secret_vol is not None)
    if secret_vol is None:
        return
    name = vols[secret_vol]["secret"]["secretName"]
    secret = one(docs, "Secret", name)
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    read = re.findall(re.escape(mounts[secret_vol]) + r"/([\w.-]+)", script)
    check(f"the init container reads a key of Secret {name}", read and set(read) <= keys)
    pass_file = re.search(r"--passphrase-file\s+(\S+)", script)
    check("hearth init gets --passphrase-file", pass_file is not None)
    check("the passphrase is copied with umask 077 (hearth refuses a readable file)",
          "umask 077" in script and pass_file and pass_file.group(1) in script.split(
              "--passphrase-file")[0])


def check_service(docs, sts, c, args):
    svc = one(docs, "Service", "hearth")
    labels = sts["spec"]["template"]["metadata"]["labels"]
    check("the Service selects the pod's labels",
          all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()))
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    listen = port_of(flag(args, "--listen") or ":8443")
    pki = port_of(flag(args, "--pki-listen") or ":8080")
    check("the Service's acme port reaches --listen",
          container_port(c, ports["acme"]["targetPort"]) == listen)
    check("the Service's pki port reaches --pki-listen",
          container_port(c, ports["pki"]["targetPort"]) == pki)
    ns = svc["metadata"]["namespace"]
    host = f"{svc['metadata']['name']}.{ns}.svc.cluster.local"
    pki_url = urlparse(flag(args, "--pki-url") or "")
    check("--pki-url is the Service's pki port under its name",
          pki_url.hostname == host and pki_url.port == ports["pki"]["port"])
    return host, ports["acme"]["port"]


def check_acme_url(what, url, host, port, tls_names):
    u = urlparse(url or "")
    check(f"{what}: https URL ending in /directory", u.scheme == "https" and
          u.path.endswith("/directory"))
    check(f"{what}: the Service's name and acme port", u.hostname == host and u.port == port)
    check(f"{what}: a name the server's certificate carries (--tls-name)",
          u.hostname in tls_names)


def check_issuer(docs, args, host, port):
    ci = one(docs, "ClusterIssuer", "hearth")
    acme = ci["spec"]["acme"]
    tls_names = flags(args, "--tls-name")
    check_acme_url("ClusterIssuer server", acme.get("server"), host, port, tls_names)
    check("ClusterIssuer trusts a caBundle", bool(acme.get("caBundle")))
    eab = acme.get("externalAccountBinding", {})
    check("ClusterIssuer has an EAB keyID", bool(eab.get("keyID")))
    ref = eab.get("keySecretRef", {})
    secret = one(docs, "Secret", ref.get("name"))
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    check("the EAB keySecretRef names a key of that Secret", ref.get("key") in keys)
    check("the EAB Secret is in cert-manager's namespace",
          secret.get("metadata", {}).get("namespace") == "cert-manager")
    check("serve requires EAB, as the issuer uses it", "--eab-required" in args)
    return acme.get("server")


def check_traefik(path, server, host, port, args):
    conf = yaml.safe_load(path.read_text())
    resolvers = conf.get("certificatesResolvers", {})
    check("traefik.yml has a certificate resolver", len(resolvers) >= 1)
    for name, r in resolvers.items():
        acme = r.get("acme", {})
        check_acme_url(f"traefik {name} caServer", acme.get("caServer"), host, port,
                       flags(args, "--tls-name"))
        check(f"traefik {name}: the ClusterIssuer's URL", acme.get("caServer") == server)
        check(f"traefik {name}: EAB kid and hmacEncoded",
              all(acme.get("eab", {}).get(k) for k in ("kid", "hmacEncoded")))
        check(f"traefik {name}: storage set", bool(acme.get("storage")))
        ep = acme.get("httpChallenge", {}).get("entryPoint")
        check(f"traefik {name}: the http-01 entry point exists", ep in conf.get("entryPoints", {}))


def dockerfile(path):
    lines = [ln.strip() for ln in path.read_text().splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "")
            for ln in lines]


def check_dockerfile(path, k8s_uid):
    ins = dockerfile(path)
    froms = [v.split()[0] for k, v in ins if k == "FROM"]
    check("Dockerfile: multi-stage", len(froms) >= 2)
    check("Dockerfile: every stage on Debian 12",
          froms and all(re.fullmatch(r"debian:bookworm(-[\w.]+)?", f) for f in froms))
    last = max(i for i, (k, _) in enumerate(ins) if k == "FROM")
    final = ins[last:]
    user = [v for k, v in final if k == "USER"]
    uid = user[-1].split(":")[0] if user else "root"
    check("Dockerfile: the final stage runs as a non-root user",
          uid not in ("root", "0") and uid.isdigit())
    check("Dockerfile: its uid is the pod's runAsUser", uid == str(k8s_uid))
    vols = [json.loads(v) for k, v in final if k == "VOLUME"]
    argv = json.loads(next(v for k, v in final if k == "ENTRYPOINT")) + \
        json.loads(next(v for k, v in final if k == "CMD"))
    data = flag(argv, "--data")
    check("Dockerfile: one VOLUME, the data directory serve uses",
          len(vols) == 1 and vols[0] == [data])
    check("Dockerfile: the runtime stage installs the package built in stage one",
          any(k == "COPY" and "--from=" in v and ".deb" in v for k, v in final))


def check_compose(path, caddyfile):
    c = yaml.safe_load(path.read_text())
    svcs = c.get("services", {})
    check("compose: hearth, certbot and caddy", {"hearth", "certbot", "caddy"} <= set(svcs))
    nets = c.get("networks", {})
    check("compose: a private (internal) network",
          any(n and n.get("internal") for n in nets.values()))
    for s in ("hearth", "hearth-init"):
        check(f"compose: {s} mounts the data volume at /var/lib/hearth",
              any(v.endswith(":/var/lib/hearth") for v in svcs.get(s, {}).get("volumes", [])))
    check("compose: certbot orders from hearth's directory",
          "https://hearth:8443/directory" in " ".join(svcs["certbot"]["command"]))
    check("compose: hearth's certificate names the host the clients use",
          "hearth" in flags(svcs["hearth"]["command"], "--tls-name"))
    check("Caddyfile: acme_ca is hearth's directory",
          re.search(r"acme_ca\s+https://hearth:8443/directory", caddyfile.read_text()))


def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    k8s, ctr = src / "deploy/k8s", src / "deploy/container"
    docs = load_k8s(k8s)
    sts, pod, c, args, data = check_statefulset(docs)
    check_init(docs, pod, data)
    host, port = check_service(docs, sts, c, args)
    server = check_issuer(docs, args, host, port)
    check_traefik(k8s / "traefik.yml", server, host, port, args)
    check_dockerfile(ctr / "Dockerfile", pod["securityContext"]["runAsUser"])
    check_compose(ctr / "compose.yaml", ctr / "Caddyfile")
    print(f"{len(CHECKS)} checks, {CHECKS.count(False)} failed")
    return 0 if all(CHECKS) else 1


if __name__ == "__main__":
    sys.exit(main())
