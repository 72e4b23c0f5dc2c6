#!/bin/sh
# Stand-in container runtime (docker or podman) of an EmbeddedVm. Keeps one directory per
# container under $STATE/containers and answers run/ps/inspect/rm/stop/start/rename/logs like the
# real one. A container told to exit at once when it was run (control exit-at-once-NAME) keeps that
# nature: starting it again makes it exit again, as a real one re-run with its own config does.
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
    : >"$C/$name/exits-at-once"
  fi
  begin "$name"
  [ "$detach" = 1 ] && echo "$id"
  return 0
}

# Starts the container's process: it runs, or exits at once with code 1 if it was made to.
begin() {
  if [ -f "$C/$1/exits-at-once" ]; then
    echo exited >"$C/$1/status"
    echo 1 >"$C/$1/exitcode"
  else
    echo running >"$C/$1/status"
    echo 0 >"$C/$1/exitcode"
  fi
}

# A stuck container (control rm-fails-NAME) can be neither removed nor stopped.
stuck() {
  if control "rm-fails-$1"; then
    echo "Error response from daemon: cannot $2 container \"$1\": permission denied" >&2
    return 0
  fi
  return 1
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
    if stuck "$n" remove; then
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

# stop/kill (the process ends) and start/restart (it runs again with the container's own config).
cmd_stop_start() {
  verb=$1
  shift
  rc=0
  for n in "$@"; do
    case $n in -*) continue ;; esac
    if ! valid_name "$n" || [ ! -d "$C/$n" ]; then
      no_such "$n"
      rc=1
      continue
    fi
    case $verb in
      stop)
        if stuck "$n" stop; then rc=1; continue; fi
        [ "$(field "$n" status)" != running ] || echo 0 >"$C/$n/exitcode"
        echo exited >"$C/$n/status" ;;
      start) [ "$(field "$n" status)" = running ] || begin "$n" ;;
    esac
    echo "$n"
  done
  return $rc
}

cmd_rename() {
  if [ $# -ne 2 ]; then
    echo "\"$TOOL rename\" requires exactly 2 arguments." >&2
    return 1
  fi
  if ! valid_name "$1" || [ ! -d "$C/$1" ]; then
    no_such "$1"
    return 1
  fi
  if [ "$1" = "$2" ]; then
    echo "Error response from daemon: Renaming a container with the same name as its current name" >&2
    return 1
  fi
  if ! valid_name "$2"; then
    echo "Error response from daemon: Invalid container name ($2), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed." >&2
    return 1
  fi
  if [ -d "$C/$2" ]; then
    echo "Error response from daemon: Conflict. The container name \"/$2\" is already in use by container \"$(field "$2" id)\". You have to remove (or rename) that container to be able to reuse that name." >&2
    return 1
  fi
  mv "$C/$1" "$C/$2"
}

sub=${1:-}
[ $# -gt 0 ] && shift
case $sub in
  run) cmd_run "$@" ;;
  inspect) cmd_inspect "$@" ;;
  ps) cmd_ps "$@" ;;
  rm) cmd_rm "$@" ;;
  stop | kill) cmd_stop_start stop "$@" ;;
  start | restart) cmd_stop_start start "$@" ;;
  rename) cmd_rename "$@" ;;
  logs)
    n=$(for a in "$@"; do case $a in -*) ;; *) echo "$a" ;; esac; done | tail -n 1)
    if [ ! -d "$C/$n" ]; then no_such "$n"; exit 1; fi
    echo "stand-in proxy $n: $(field "$n" status)"
    [ "$(field "$n" status)" = running ] || echo "stand-in proxy $n: exited at once (as it was told to)" >&2
    ;;
  version | --version) echo "$TOOL version 0.0.0-stand-in" ;;
  *) echo "stand-in $TOOL: unsupported command: $sub" >&2; exit 125 ;;
esac
