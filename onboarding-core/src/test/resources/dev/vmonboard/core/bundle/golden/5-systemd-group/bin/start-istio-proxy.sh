#!/bin/sh
# Starts the Istio proxy of vm-apps/backend-group from the files in ../etc (written by vmonboard).
# Run it as root on a VM with the istio-sidecar package installed.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd -P)
etc="$root/etc"
install -D -o istio-proxy -g istio-proxy -m 0644 "$etc"/root-cert.pem /etc/certs/root-cert.pem
install -D -o istio-proxy -g istio-proxy -m 0600 "$etc"/istio-token /var/run/secrets/tokens/istio-token
install -D -o istio-proxy -g istio-proxy -m 0644 "$etc"/cluster.env /var/lib/istio/envoy/cluster.env
install -D -o istio-proxy -g istio-proxy -m 0644 "$etc"/mesh.yaml /etc/istio/config/mesh
while IFS= read -r line; do
  grep -qxF -- "$line" /etc/hosts || printf '%s\n' "$line" >> /etc/hosts
done < "$etc"/hosts
systemctl enable istio
systemctl restart istio
