#!/bin/sh
# Stand-in sudo of an EmbeddedVm: the VM's commands already run as the JVM's user; records, then runs.
. '@TOOLS@/lib.sh'
record_call "$@"
while [ $# -gt 0 ]; do
  case $1 in
    -n | --non-interactive) shift ;;
    --) shift; break ;;
    -*) echo "sudo: stand-in does not support option $1" >&2; exit 1 ;;
    *) break ;;
  esac
done
exec "$@"
