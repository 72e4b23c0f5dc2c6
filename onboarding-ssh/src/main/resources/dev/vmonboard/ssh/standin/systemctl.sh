#!/bin/sh
# Stand-in systemctl of an EmbeddedVm: units are directories under $STATE/units (the VM starts
# with the unit "istio", as the istio-sidecar package installs it); files "enabled" and "active".
. '@TOOLS@/lib.sh'
record_call "$@"
U="$STATE/units"
now=0 quiet=0 sub=''
units=''
for a in "$@"; do
  case $a in
    --now) now=1 ;;
    -q | --quiet) quiet=1 ;;
    --no-block | --no-pager) ;;
    -*) echo "systemctl: unrecognized option '$a'" >&2; exit 1 ;;
    *) if [ -z "$sub" ]; then sub=$a; else units="$units ${a%.service}"; fi ;;
  esac
done
need_unit() {
  if [ ! -d "$U/$1" ]; then
    echo "Failed to $sub unit: Unit $1.service not found." >&2
    exit 5
  fi
}
rc=0
case $sub in
  daemon-reload) exit 0 ;;
  enable | disable | start | stop | restart | is-active | is-enabled | status) ;;
  *) echo "stand-in systemctl: unsupported command: $sub" >&2; exit 1 ;;
esac
for u in $units; do
  need_unit "$u"
  case $sub in
    enable) touch "$U/$u/enabled"; [ "$now" = 1 ] && touch "$U/$u/active" ;;
    disable) rm -f "$U/$u/enabled"; [ "$now" = 1 ] && rm -f "$U/$u/active" ;;
    start | restart) touch "$U/$u/active" ;;
    stop) rm -f "$U/$u/active" ;;
    is-active | status)
      if [ -f "$U/$u/active" ]; then s=active; else s=inactive; rc=3; fi
      [ "$quiet" = 1 ] || echo "$s" ;;
    is-enabled)
      if [ -f "$U/$u/enabled" ]; then s=enabled; else s=disabled; rc=1; fi
      [ "$quiet" = 1 ] || echo "$s" ;;
  esac
done
exit $rc
