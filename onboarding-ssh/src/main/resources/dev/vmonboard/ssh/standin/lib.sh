# Shared by the stand-in tools of an EmbeddedVm. Sourced, never run on its own.
# STATE is the VM's private state directory (outside the VM's filesystem root).
STATE='@STATE@'
TOOL=${0##*/}

# Appends one invocation to the call log: the number of words, then each word, NUL-terminated.
record_call() {
  printf '%s\0' "$(($# + 1))" "$TOOL" "$@" >>"$STATE/calls"
}

control() {
  [ -f "$STATE/control/$1" ]
}

# Whether the stand-in proxy answers ready: not when told never to, not before the number of
# probes it was told to wait for, and only while a container runs or the istio unit is active.
proxy_ready() {
  control never-ready && return 1
  probes=0 after=0
  [ -f "$STATE/probes" ] && read -r probes <"$STATE/probes"
  probes=$((probes + 1))
  echo "$probes" >"$STATE/probes"
  [ -f "$STATE/control/ready-after" ] && read -r after <"$STATE/control/ready-after"
  [ "$probes" -gt "$after" ] || return 1
  for c in "$STATE"/containers/*; do
    [ -f "$c/status" ] || continue
    read -r s <"$c/status"
    [ "$s" = running ] && return 0
  done
  [ -f "$STATE/units/istio/active" ] && return 0
  return 1
}

# Reads a file's first line with the shell alone (the stand-ins stay cheap: no cat, no forks).
first_line() {
  v=''
  read -r v <"$1"
  printf '%s\n' "$v"
}

is_ready_url() {
  case $1 in
    http://localhost:15021/healthz/ready | http://127.0.0.1:15021/healthz/ready) return 0 ;;
    *) return 1 ;;
  esac
}
