#!/bin/sh
# Starts the Istio proxy of vm-apps/backend-vm-1 from the files in ../etc (written by vmonboard).
# The container runtime is docker unless CONTAINER_RUNTIME names another (podman).
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd -P)
etc="$root/etc"
runtime=${CONTAINER_RUNTIME:-docker}
me=$(id -u)
mv_t=
if mv --help 2>&1 | grep -q -e --no-target-directory; then mv_t=-T; fi
refuse() { printf 'start-istio-proxy.sh: %s\n' "$1" >&2; exit 1; }
# own_dir DIR: a directory (not a link) of this user that no one else can write.
own_dir() {
  [ -n "$(find "$1" -prune -type d -user "$me" ! -perm -020 ! -perm -002 -print)" ]
}
# safe_parent DIR: of this user or root, and writable by others only if sticky.
safe_parent() {
  [ -n "$(find "$1" -prune -type d \( -user "$me" -o -user 0 \) \( -perm -1000 -o \( ! -perm -020 ! -perm -002 \) \) -print)" ]
}
# host_dir DIR: creates DIR 0700, or checks the one there and every directory above.
host_dir() {
  up=$(dirname -- "$1")
  while :; do
    safe_parent "$up" || refuse "$up can be changed by another user: not writing below it"
    [ "$up" = / ] && break
    up=$(dirname -- "$up")
  done
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then mkdir -m 0700 -- "$1"; fi
  own_dir "$1" || refuse "$1 is a link, not a directory, not owned by uid $me or writable by others: not writing to it"
}
# seed SOURCE DIR NAME MODE: copies SOURCE to DIR/NAME by a new file and a rename.
seed() {
  { [ -f "$1" ] && [ ! -L "$1" ]; } || refuse "$1 is not a regular file"
  if [ -L "$2/$3" ] || { [ -e "$2/$3" ] && [ ! -f "$2/$3" ]; }; then
    refuse "$2/$3 is a link or not a regular file: not replacing it"
  fi
  tmp=$(mktemp "$2/.$3.XXXXXX")
  cat -- "$1" > "$tmp" && chmod "$4" "$tmp" && mv -f $mv_t -- "$tmp" "$2/$3" || { rm -f -- "$tmp"; exit 1; }
}
host_dir "$etc"-certs
seed "$etc"/istio-ca.pem "$etc"-certs root-cert.pem 0644
"$runtime" rm -f istio-proxy >/dev/null 2>&1 || true
"$runtime" run \
  -d \
  --name istio-proxy \
  --restart unless-stopped \
  --network host \
  -v "$etc"/tokens:/var/run/secrets/tokens:ro \
  -v "$etc"-certs:/var/run/secrets/istio \
  --env-file "$etc"/sidecar.env \
  --add-host istiod.istio-system:203.0.113.10 \
  --add-host istiod.istio-system.svc:203.0.113.10 \
  --add-host istiod.istio-system.svc.cluster:203.0.113.10 \
  --add-host istiod.istio-system.svc.cluster.local:203.0.113.10 \
  --add-host zipkin.istio-system:203.0.113.10 \
  --add-host zipkin.istio-system.svc:203.0.113.10 \
  --add-host zipkin.istio-system.svc.cluster:203.0.113.10 \
  --add-host zipkin.istio-system.svc.cluster.local:203.0.113.10 \
  docker.io/istio/proxyv2:1.9.0 proxy sidecar --serviceCluster backend.vm-apps --concurrency 0 --proxyLogLevel info --proxyComponentLogLevel misc:info --trust-domain cluster.local
