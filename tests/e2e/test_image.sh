#!/usr/bin/env bash
# test_image.sh: what the container image holds, as far as a machine that
# cannot start containers allows. A Debian 12 minbase root made with
# debootstrap (once per machine, kept as a tarball under the checkout's
# build/rootfs) stands for the image's base; the package of the build under
# test is installed into a copy by deploy/container/image-setup.sh, the
# script the Dockerfile's runtime stage runs. Then `hearth init` and the
# Dockerfile's ENTRYPOINT and CMD run in it under unshare (own mount and PID
# namespaces) and chroot as the image's user, uid 10001, with loopback ports
# added; certbot on this machine gets a certificate from it. Then the
# Kubernetes StatefulSet's init container script and server arguments run
# in the same image, with the Secret mounted as the kubelet would. Not run here:
# the Dockerfile itself (its build stage), the container runtime's network,
# cgroups and seccomp (docs/deployment.md). Needs root and Debian's archive.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILD=$(cd "$(dirname "$HEARTH_BIN")/.." && pwd)
CONTAINER=$SRC/deploy/container
IMAGE_UID=10001
[ "$(id -u)" -eq 0 ] || { echo "test_image.sh uses chroot and unshare: run it as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debootstrap is missing: deploy/deps.sh --test" >&2; exit 1; }

# rootfs_tarball: the cached minbase root, made when missing (one maker at
# a time; a half-made one is never kept).
ARCH=$(dpkg --print-architecture)
CACHE=$SRC/build/rootfs
TARBALL=$CACHE/bookworm-minbase-$ARCH.tar
mirror() {
	local m
	m=$(sed -n 's/^URIs:[[:space:]]*\([^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
		2>/dev/null | head -n 1)
	echo "${HEARTH_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}
rootfs_tarball() {
	local tmp
	mkdir -p "$CACHE"
	exec {ROOTFS_FD}>>"$CACHE/.lock"
	flock "$ROOTFS_FD"
	if [ ! -s "$TARBALL" ]; then
		tmp=$(mktemp -d "$CACHE/make.XXXXXX")
		if ! debootstrap --variant=minbase bookworm "$tmp/root" "$(mirror)" >"$WORK/debootstrap.log" 2>&1; then
			tail -n 20 "$WORK/debootstrap.log" >&2
			rm -rf "$tmp"
			return 1
		fi
		tar -C "$tmp/root" -cf "$tmp/root.tar" . && mv "$tmp/root.tar" "$TARBALL"
		rm -rf "$tmp"
	fi
	exec {ROOTFS_FD}>&-
}
check "a Debian 12 minbase root (debootstrap, cached in build/rootfs)" rootfs_tarball
R=$WORK/root
mkdir -p "$R"
# the root copy is a quarter of a gigabyte: gone when the test ends
trap 'cleanup; rm -rf "$R"' EXIT
tar -C "$R" -xf "$TARBALL"
check "the root is Debian 12" grep -qx 'VERSION_CODENAME=bookworm' "$R/etc/os-release"
cp /etc/resolv.conf "$R/etc/resolv.conf"

# the image's runtime stage
check "deploy/deb.sh packages the build under test" \
	logged deb "$SRC/deploy/deb.sh" --build "$BUILD" --out "$WORK/deb"
DEB=$(tail -n 1 "$WORK/deb.out")
mkdir -p "$R/tmp/hearth"
cp "$DEB" "$CONTAINER/image-setup.sh" "$R/tmp/hearth/"
check "image-setup.sh installs the package with its dependencies" logged setup \
	chroot "$R" sh /tmp/hearth/image-setup.sh "/tmp/hearth/$(basename "$DEB")"
rm -rf "$R/tmp/hearth"
check "the image's user hearth is uid $IMAGE_UID" \
	test "$(chroot "$R" id -u hearth):$(chroot "$R" id -g hearth)" = "$IMAGE_UID:$IMAGE_UID"
check "the data volume is the user's, 0700" \
	test "$(stat -c '%u %a' "$R/var/lib/hearth")" = "$IMAGE_UID 700"
check "every library hearth loads is in the image" \
	bash -c "out=\$(chroot '$R' ldd /usr/bin/hearth) && ! grep -q 'not found' <<<\"\$out\""
check "apt's lists are gone from the image" test -z "$(ls -A "$R/var/lib/apt/lists" 2>/dev/null | grep -v '^partial$\|^lock$')"

# the Dockerfile's user, volume, ENTRYPOINT and CMD
dockerfile() { sed -n "s/^$1[[:space:]]*//p" "$CONTAINER/Dockerfile" | tail -n 1; }
check "the Dockerfile runs as uid $IMAGE_UID" test "$(dockerfile USER)" = "$IMAGE_UID:$IMAGE_UID"
mapfile -t ARGV < <(python3 -c 'import json,sys; [print(a) for a in json.loads(sys.argv[1]) + json.loads(sys.argv[2])]' \
	"$(dockerfile ENTRYPOINT)" "$(dockerfile CMD)")
check "ENTRYPOINT and CMD serve the volume" \
	test "${ARGV[*]:0:4}" = "/usr/bin/hearth serve --data /var/lib/hearth"
# in_image COMMAND...: runs as the image would, and as the Kubernetes
# manifests ask (readOnlyRootFilesystem): own mount and PID namespaces (the
# command is PID 1), /proc of its own, the root read-only but for the data
# volume (and the directories in IMAGE_RW), the image's user.
in_image() {
	unshare --mount --pid --fork --kill-child=SIGTERM --mount-proc="$R/proc" sh -c '
		r=$1 user=$2; shift 2
		mount --rbind "$r" "$r" || exit 1
		for d in /var/lib/hearth $IMAGE_RW; do mount --bind "$r$d" "$r$d" || exit 1; done
		mount -o remount,bind,ro "$r" &&
			exec chroot --userspec="$user:$user" --groups="$user" "$r" "$@"' \
		in_image "$R" "$IMAGE_UID" "$@"
}
check "hearth init in the image" logged init in_image /usr/bin/hearth init --data /var/lib/hearth \
	--ca-name "Image test"
D=$R/var/lib/hearth
check "the CA files are the image user's" test "$(stat -c %u "$D/ca/intermediate.key")" = "$IMAGE_UID"

require_fixed_ports
start_dns
PORT=$(free_port)
PKI_PORT=$(free_port)
ADMIN_PORT=$(free_port)
SERVER_LOG=$WORK/serve.log
(no_lock_fd; exec >>"$SERVER_LOG" 2>&1; in_image "${ARGV[@]}" \
	--listen "127.0.0.1:$PORT" --threads 2 --pki-listen "127.0.0.1:$PKI_PORT" \
	--admin-listen "127.0.0.1:$ADMIN_PORT" --http01-port "$HTTP01_PORT" \
	--resolver "127.0.0.1:$DNS_PORT") &
SERVER_PID=$!
# unshare ignores SIGTERM while it waits; the server is its child
# (bash's subshell may still be on its way to exec unshare)
INNER=
for _ in $(seq 1 100); do
	INNER=$(pgrep -P "$(pgrep -P "$SERVER_PID" -x unshare || echo "$SERVER_PID")" || true)
	[ -n "$INNER" ] && break
	sleep 0.1
done
PIDS+=($INNER "$SERVER_PID")
up() { curl -sf --cacert "$D/ca/root.crt" "https://localhost:$PORT/directory" -o /dev/null; }
for _ in $(seq 1 300); do up && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
check "the image's command serves the ACME directory" up
check "it runs as the image's user alone" grep -q "running as uid $IMAGE_UID, not root" "$SERVER_LOG"
check "/healthz answers ok" test "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz")" = ok
check "/readyz answers ready" test "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz")" = ready
check "the root is served on the PKI listener" cmp -s "$D/ca/root.crt" \
	<(curl -sf "http://127.0.0.1:$PKI_PORT/ca/root.pem")

export REQUESTS_CA_BUNDLE="$D/ca/root.crt"
CB=$WORK/certbot
check "certbot gets a certificate from the image" logged certbot certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" certonly \
	--server "https://localhost:$PORT/directory" --agree-tos -m admin@corp.internal \
	--no-eff-email --standalone --http-01-port "$HTTP01_PORT" --cert-name img -d img.corp.internal
check "the certificate verifies under the image's CA" verify_leaf "$D" "$CB/config/live/img/cert.pem"
server_healthy
check "the root stayed read-only" test ! -e "$R/var/tmp/.probe" -a \
	"$(in_image sh -c 'touch /var/tmp/.probe 2>&1 || echo refused' | tail -n 1)" = refused
kill $INNER 2>/dev/null || true
stop_server
check "the store is the image user's" test "$(stat -c %u "$D/db/data.mdb")" = "$IMAGE_UID"

# The StatefulSet's init container and server (deploy/k8s/statefulset.yaml)
# in the same image: the Secret as the kubelet mounts it with fsGroup
# (root's, group-readable), the memory scratch volume, a new data volume.
K8S=$SRC/deploy/k8s/statefulset.yaml
mapfile -d '' -t K8S_INIT < <(/usr/bin/python3 -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["initContainers"][0]
print(c["args"][0], next(e["value"] for e in c["env"] if e["name"] == "HEARTH_CA_NAME"),
      sep="\0", end="\0")' "$K8S")
mapfile -t K8S_ARGS < <(/usr/bin/python3 -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
print("\n".join(c["args"]))' "$K8S")
find "$D" -mindepth 1 -delete
install -d -m 0755 "$R/etc/hearth/secret"
printf 'a passphrase from a Kubernetes Secret\n' >"$R/etc/hearth/secret/root-passphrase"
chown "0:$IMAGE_UID" "$R/etc/hearth/secret/root-passphrase"
chmod 0440 "$R/etc/hearth/secret/root-passphrase"
install -d -m 0700 -o "$IMAGE_UID" -g "$IMAGE_UID" "$R/run/hearth"
export IMAGE_RW=/run/hearth
k8s_init() { HEARTH_CA_NAME=${K8S_INIT[1]} in_image /bin/sh -c "${K8S_INIT[0]}"; }
check "the StatefulSet's init container creates the CA" logged k8s-init k8s_init
check "the root carries the CA name of its env" \
	grep -qF "${K8S_INIT[1]}" <<<"$(openssl x509 -in "$D/ca/root.crt" -noout -subject)"
check "the root key opens with the Secret's passphrase" openssl pkey -in "$D/ca/root.key" \
	-passin "file:$R/etc/hearth/secret/root-passphrase" -noout
check "no generated passphrase next to it" test ! -e "$D/ca/root.pass"
ROOT_SUM=$(sha256sum "$D/ca/root.crt")
check "the init container on a second start" logged k8s-init2 k8s_init
check "leaves the CA as it was" test "$(sha256sum "$D/ca/root.crt")" = "$ROOT_SUM"

# the server with the StatefulSet's arguments, the listeners on loopback
TLS_NAME=hearth.hearth.svc.cluster.local
for i in "${!K8S_ARGS[@]}"; do
	case ${K8S_ARGS[$i]} in
	--listen) K8S_ARGS[i + 1]=127.0.0.1:$PORT ;;
	--pki-listen) K8S_ARGS[i + 1]=127.0.0.1:$PKI_PORT ;;
	--admin-listen) K8S_ARGS[i + 1]=127.0.0.1:$ADMIN_PORT ;;
	esac
done
SERVER_LOG=$WORK/k8s-serve.log
(no_lock_fd; exec >>"$SERVER_LOG" 2>&1; in_image /usr/bin/hearth "${K8S_ARGS[@]}") &
SERVER_PID=$!
INNER=
for _ in $(seq 1 100); do
	INNER=$(pgrep -P "$(pgrep -P "$SERVER_PID" -x unshare || echo "$SERVER_PID")" || true)
	[ -n "$INNER" ] && break
	sleep 0.1
done
PIDS+=($INNER "$SERVER_PID")
dir_json() { curl -sf --cacert "$D/ca/root.crt" --resolve "$TLS_NAME:$PORT:127.0.0.1" \
	"https://$TLS_NAME:$PORT/directory" "$@"; }
for _ in $(seq 1 300); do dir_json -o /dev/null && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
check "the StatefulSet's server answers under the Service's name" dir_json -o /dev/null
check "its directory requires external account binding" /usr/bin/python3 -c \
	'import json, sys; sys.exit(json.load(sys.stdin)["meta"]["externalAccountRequired"] is not True)' \
	< <(dir_json)
check "its readiness probe passes" test "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz")" = ready
check "its log is JSON" /usr/bin/python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$SERVER_LOG"
server_healthy
kill $INNER 2>/dev/null || true
stop_server
done_checks
