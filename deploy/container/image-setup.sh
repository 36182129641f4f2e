#!/bin/sh
# image-setup.sh DEB: the runtime stage of deploy/container/Dockerfile, in
# one script so that tests/e2e/test_image.sh runs the very same steps in a
# Debian 12 root made with debootstrap (this machine cannot run the image).
# Creates the image's one user, hearth (uid and gid HEARTH_UID, default
# 10001, fixed so a volume's owner is known in advance), installs the
# package with its dependencies from Debian's archive, and gives
# /var/lib/hearth to that user: the container runs as hearth alone, so
# the signer is a separate process but not a separate user
# (docs/deployment.md).
set -eu
deb=$1
uid=${HEARTH_UID:-10001}
export DEBIAN_FRONTEND=noninteractive
groupadd --gid "$uid" hearth
useradd --uid "$uid" --gid hearth --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin hearth
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$deb"
chown hearth:hearth /var/lib/hearth
chmod 0700 /var/lib/hearth
apt-get clean
rm -rf /var/lib/apt/lists/*
