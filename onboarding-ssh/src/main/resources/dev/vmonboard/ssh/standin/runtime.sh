#!/bin/sh
# Stand-in container runtime (docker or podman) of an EmbeddedVm. Keeps one directory per
# container under $STATE/containers and answers run/ps/inspect/rm/stop/start/logs like the real one.
. '@TOOLS@/lib.sh'
record_call "$@"
C="$STATE/containers"

valid_name() {
  case $1 in
    '' | [!a-zA-Z0-9]* | *[!a-zA-Z0-9_.-]*) return 1 ;;
    *) return 0 ;;
  esac
}

no_such() {
  echo "Error response from daemon: No such container: $1" >&2
}

cmd_run() {
  name='' envfile='' detach=0
  while [ $# -gt 0 ]; do
    case $1 in
      -d | --detach) detach=1 ;;
      --rm | --init | --privileged | -i | -t | -it) ;;
      --name) name=$2; shift ;;
      --name=*) name=${1#--name=} ;;
      --env-file) envfile=$2; shift ;;
      -v | --volume)
        src=${2%%:*}
        if [ ! -e "$src" ]; then
          echo "Error response from daemon: invalid mount config: bind source path does not exist: $src" >&2
          return 125
        fi
        shift ;;
      --restart | --network | --net | --add-host | -e | --env | -u | --user | --entrypoint | \
        --cap-add | --log-driver | --log-opt | -l | --label | --hostname | --pull | -w | --workdir)
        shift ;;
      --*=*) ;;
      -*) echo "unknown flag: $1" >&2; return 125 ;;
      *) break ;;
    esac
    shift
  done
  if [ $# -eq 0 ]; then
    echo "\"$TOOL run\" requires at least 1 argument." >&2
    return 125
  fi
  image=$1
  if [ -n "$envfile" ] && [ ! -r "$envfile" ]; then
    echo "$TOOL: open $envfile: no such file or directory." >&2
    return 125
  fi
  if [ -z "$name" ]; then name="stand_in_$$"; fi
  if ! valid_name "$name"; then
    echo "$TOOL: Error response from daemon: Invalid container name ($name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." >&2
    return 125
  fi
  if [ -d "$C/$name" ]; then
    echo "$TOOL: Error response from daemon: Conflict. The container name \"/$name\" is already in use." >&2
    return 125
  fi
  mkdir "$C/$name"
  id=$(printf '%08x%08x%048x' "$$" "$(date +%s)" 0)
  echo "$id" >"$C/$name/id"
  echo "$image" >"$C/$name/image"
  if control "exit-at-once-$name" || control exit-at-once-all; then
    echo exited >"$C/$name/status"
    echo 1 >"$C/$name/exitcode"
  else
    echo running >"$C/$name/status"
    echo 0 >"$C/$name/exitcode"
  fi
  [ "$detach" = 1 ] && echo "$id"
  return 0
}

field() {
  first_line "$C/$1/$2"
}

cmd_inspect() {
  fmt=''
  while [ $# -gt 0 ]; do
    case $1 in
      -f | --format) fmt=$2; shift 2 ;;
      --format=*) fmt=${1#--format=}; shift ;;
      --type) shift 2 ;;
      *) break ;;
    esac
  done
  rc=0
  for n in "$@"; do
    if ! valid_name "$n" || [ ! -d "$C/$n" ]; then
      echo "Error: No such object: $n" >&2
      rc=1
      continue
    fi
    case $fmt in
      '{{.State.Status}}') field "$n" status ;;
      '{{.State.Running}}') if [ "$(field "$n" status)" = running ]; then echo true; else echo false; fi ;;
      '{{.State.ExitCode}}') field "$n" exitcode ;;
      '{{.Config.Image}}') field "$n" image ;;
      '{{.Id}}') field "$n" id ;;
      '') printf '[{"Id":"%s","Name":"/%s","State":{"Status":"%s"}}]\n' \
        "$(field "$n" id)" "$n" "$(field "$n" status)" ;;
      *) echo "stand-in $TOOL: unsupported format: $fmt" >&2; return 2 ;;
    esac
  done
  return $rc
}

cmd_ps() {
  all=0 quiet=0 fmt='' filter=''
  while [ $# -gt 0 ]; do
    case $1 in
      -a | --all) all=1 ;;
      -q | --quiet) quiet=1 ;;
      --format) fmt=$2; shift ;;
      --filter | -f) filter=${2#name=}; shift ;;
      *) echo "unknown flag: $1" >&2; return 125 ;;
    esac
    shift
  done
  [ "$quiet" = 1 ] || [ -n "$fmt" ] || printf 'CONTAINER ID   IMAGE   STATUS   NAMES\n'
  for d in "$C"/*; do
    [ -d "$d" ] || continue
    n=${d##*/}
    s=$(field "$n" status)
    [ "$all" = 1 ] || [ "$s" = running ] || continue
    [ -z "$filter" ] || [ "^$n\$" = "$filter" ] || [ "$n" = "$filter" ] || continue
    if [ "$quiet" = 1 ]; then
      id=$(field "$n" id)
      printf '%.12s\n' "$id"
    elif [ "$fmt" = '{{.Names}}' ]; then
      echo "$n"
    else
      printf '%.12s   %s   %s   %s\n' "$(field "$n" id)" "$(field "$n" image)" "$s" "$n"
    fi
  done
}

cmd_rm() {
  force=0
  while [ $# -gt 0 ]; do
    case $1 in
      -f | --force) force=1 ;;
      -*) echo "unknown flag: $1" >&2; return 125 ;;
      *) break ;;
    esac
    shift
  done
  rc=0
  for n in "$@"; do
    if ! valid_name "$n" || [ ! -d "$C/$n" ]; then
      no_such "$n"
      rc=1
      continue
    fi
    if control "rm-fails-$n"; then
      echo "Error response from daemon: could not remove container \"$n\": permission denied" >&2
      rc=1
      continue
    fi
    if [ "$(field "$n" status)" = running ] && [ "$force" = 0 ]; then
      echo "Error response from daemon: You cannot remove a running container $n. Stop the container before attempting removal or force remove" >&2
      rc=1
      continue
    fi
    rm -rf "$C/$n"
    echo "$n"
  done
  return $rc
}

cmd_set_status() {
  status=$1
  shift
  rc=0
  for n in "$@"; do
    case $n in -*) continue ;; esac
    if ! valid_name "$n" || [ ! -d "$C/$n" ]; then
      no_such "$n"
      rc=1
      continue
    fi
    echo "$status" >"$C/$n/status"
    echo "$n"
  done
  return $rc
}

sub=${1:-}
[ $# -gt 0 ] && shift
case $sub in
  run) cmd_run "$@" ;;
  inspect) cmd_inspect "$@" ;;
  ps) cmd_ps "$@" ;;
  rm) cmd_rm "$@" ;;
  stop | kill) cmd_set_status exited "$@" ;;
  start | restart) cmd_set_status running "$@" ;;
  logs)
    n=$(for a in "$@"; do case $a in -*) ;; *) echo "$a" ;; esac; done | tail -n 1)
    if [ ! -d "$C/$n" ]; then no_such "$n"; exit 1; fi
    echo "stand-in proxy $n: $(field "$n" status)"
    [ "$(field "$n" status)" = running ] || echo "stand-in proxy $n: exited at once (as it was told to)" >&2
    ;;
  version | --version) echo "$TOOL version 0.0.0-stand-in" ;;
  *) echo "stand-in $TOOL: unsupported command: $sub" >&2; exit 125 ;;
esac
