#!/bin/sh
# Starts the Istio proxy of vm-apps/legacy-vm from the files in ../etc (written by vmonboard).
# The container runtime is docker unless CONTAINER_RUNTIME names another (podman).
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd -P)
etc="$root/etc"
runtime=${CONTAINER_RUNTIME:-docker}
mkdir -p -m 0700 "$etc"-certs
cp -f "$etc"/istio-ca.pem "$etc"-certs/root-cert.pem
"$runtime" rm -f istio-proxy >/dev/null 2>&1 || true
"$runtime" run \
  -d \
  --name istio-proxy \
  --restart unless-stopped \
  --network host \
  -v "$etc"/tokens:/var/run/secrets/tokens:ro \
  -v "$etc"-certs:/var/run/secrets/istio \
  --env-file "$etc"/sidecar.env \
  docker.io/istio/proxyv2:1.9.0 proxy sidecar --serviceCluster legacy-sa.vm-apps --concurrency 0 --proxyLogLevel info --proxyComponentLogLevel misc:info --trust-domain cluster.local
