#!/bin/sh
# Stand-in curl of an EmbeddedVm: only the proxy's readiness URL, answered from the stand-in state.
. '@TOOLS@/lib.sh'
record_call "$@"
url=''
while [ $# -gt 0 ]; do
  case $1 in
    -o | --output | -m | --max-time | --connect-timeout | -w | --write-out | -H | --header | -X | --retry)
      shift ;;
    -*) ;;
    *) url=$1 ;;
  esac
  shift
done
if ! is_ready_url "$url"; then
  echo "curl: (6) Could not resolve host: $url" >&2
  exit 6
fi
if proxy_ready; then
  exit 0
fi
echo "curl: (7) Failed to connect to localhost port 15021: Connection refused" >&2
exit 7
