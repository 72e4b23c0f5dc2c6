#!/bin/sh
# Starts the Istio proxy of vm-apps/backend-vm-1 from the files in ../etc (written by vmonboard).
# The container runtime is docker unless CONTAINER_RUNTIME names another (podman).
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd -P)
etc="$root/etc"
runtime=${CONTAINER_RUNTIME:-docker}
mkdir -p -m 0700 "$etc"-certs
cp -f "$etc"/istio-ca.pem "$etc"-certs/root-cert.pem
"$runtime" rm -f istio-proxy-backend >/dev/null 2>&1 || true
"$runtime" run \
  -d \
  --name istio-proxy-backend \
  --restart unless-stopped \
  --network host \
  -v "$etc"/tokens:/var/run/secrets/tokens:ro \
  -v "$etc"/k8s-ca.pem:/var/run/secrets/kubernetes.io/serviceaccount/ca.crt:ro \
  -v "$etc"-certs:/var/run/secrets/istio \
  --env-file "$etc"/sidecar.env \
  --add-host istiod-canary.istio-system:203.0.113.10 \
  --add-host istiod-canary.istio-system.svc:203.0.113.10 \
  --add-host istiod-canary.istio-system.svc.cluster:203.0.113.10 \
  --add-host istiod-canary.istio-system.svc.cluster.local:203.0.113.10 \
  --add-host zipkin.istio-system:203.0.113.10 \
  --add-host zipkin.istio-system.svc:203.0.113.10 \
  --add-host zipkin.istio-system.svc.cluster:203.0.113.10 \
  --add-host zipkin.istio-system.svc.cluster.local:203.0.113.10 \
  --add-host istio-csr.cert-manager:203.0.113.10 \
  --add-host istio-csr.cert-manager.svc:203.0.113.10 \
  --add-host istio-csr.cert-manager.svc.cluster:203.0.113.10 \
  --add-host istio-csr.cert-manager.svc.cluster.local:203.0.113.10 \
  docker.io/istio/proxyv2:1.9.0 proxy sidecar --serviceCluster backend.vm-apps --concurrency 0 --proxyLogLevel debug --proxyComponentLogLevel misc:info --trust-domain cluster.local
