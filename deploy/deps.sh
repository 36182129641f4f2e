#!/bin/sh
# deps.sh: installs what hearth needs from Debian 12's archive, nothing else.
#   deploy/deps.sh          build and run dependencies (with what
#                           deploy/wolfssl.sh needs to rebuild Debian's wolfSSL)
#   deploy/deps.sh --test   also the tools the test suite drives
set -eu
PKGS="build-essential cmake pkg-config libwolfssl-dev libevent-dev libcjson-dev liblmdb-dev libpq-dev libc-ares-dev \
	libidn2-dev dpkg-dev autoconf automake libtool"
if [ "${1:-}" = "--test" ]; then
	# the end-to-end tests drive real ACME clients (certbot, lego,
	# python3-acme, Caddy) and use pebble's pebble-challtestsrv as their DNS
	# server; BIND 9 (bind9: named, tsig-keygen; bind9-dnsutils: dig) is the
	# DNS server that certbot's python3-certbot-dns-rfc2136 and lego update
	# with RFC 2136; ss (iproute2) shows what Caddy listens on; clang-14 and
	# libclang-rt-14-dev (libclang_rt.fuzzer) build the libFuzzer drivers;
	# groff-base renders the man pages the docs/man test checks;
	# postgresql-15 is the server the PostgreSQL store tests start for
	# themselves (tests/e2e/pg.sh), and haproxy the load balancer in front
	# of the replicas (tests/e2e/replicas.sh); the packaging tests install the .deb
	# (systemd for systemd-analyze verify), make a Debian 12 root with
	# debootstrap, and parse the Kubernetes and compose files with
	# python3-yaml
	PKGS="$PKGS openssl curl python3 ca-certificates certbot lego pebble python3-acme \
		python3-josepy python3-cryptography python3-requests python3-openssl util-linux \
		caddy iproute2 clang-14 libclang-rt-14-dev bind9 bind9-dnsutils \
		python3-certbot-dns-rfc2136 groff-base postgresql-15 systemd debootstrap \
		python3-yaml haproxy"
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! dpkg -s $PKGS >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi
