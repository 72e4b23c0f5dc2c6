#!/bin/sh
# Stand-in wget of an EmbeddedVm: only the proxy's readiness URL, answered from the stand-in state.
. '@TOOLS@/lib.sh'
record_call "$@"
url=''
while [ $# -gt 0 ]; do
  case $1 in
    -O | --output-document | -T | --timeout | -t | --tries) shift ;;
    -*) ;;
    *) url=$1 ;;
  esac
  shift
done
if ! is_ready_url "$url"; then
  echo "wget: bad address '$url'" >&2
  exit 4
fi
if proxy_ready; then
  exit 0
fi
echo "wget: can't connect to remote host (127.0.0.1): Connection refused" >&2
exit 4
