#!/bin/sh
# Stages the build context of the Containerfile in $1 (default bin/image):
# the static binary, the host's CA bundle, passwd/group for the non-root
# user and an empty data directory. Used by `make image`, which passes
# LDFLAGS (the version and commit `vacationd version` prints).
set -eu
ctx=${1:-bin/image}
go=${GO:-go}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -s "$ca" ]; then
	echo "stage: no CA bundle at $ca (install the Debian package ca-certificates, or set CA_BUNDLE)" >&2
	exit 1
fi
rm -rf "$ctx"
mkdir -p "$ctx/data"
CGO_ENABLED=0 "$go" build -trimpath -ldflags="-s -w ${LDFLAGS:-}" -o "$ctx/vacationd" ./cmd/vacationd
cp "$ca" "$ctx/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nvacationd:x:65532:65532:vacationd:/data:/sbin/nologin\n' >"$ctx/passwd"
printf 'root:x:0:\nvacationd:x:65532:\n' >"$ctx/group"
