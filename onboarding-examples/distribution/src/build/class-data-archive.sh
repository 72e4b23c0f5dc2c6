#!/bin/sh
# Makes DIST/lib/sidecar-bootstrap.jsa, the launcher's application class-data archive: the classes
# that two training runs of DIST/bin/sidecar-bootstrap load (--help, and a dry run on the embedded
# cluster), dumped as a static archive through the launcher itself, so that the class path
# recorded in it is the one the launcher runs with. Then DIST/lib/sidecar-bootstrap.jsa.home names
# the directory it was made for. Usage: class-data-archive.sh DIST WORK_DIR
set -eu
dist=$(cd -P -- "$1" && pwd)
work=$2
launcher=$dist/bin/sidecar-bootstrap
archive=$dist/lib/sidecar-bootstrap.jsa
mkdir -p "$work"
rm -f "$archive" "$archive.home"
VMONBOARD_CDS=off
export VMONBOARD_CDS
JAVA_OPTS="-XX:DumpLoadedClassList=$work/help.classlist" "$launcher" --help >"$work/help.log" 2>&1
JAVA_OPTS="-XX:DumpLoadedClassList=$work/dry-run.classlist" "$launcher" \
  -a -n vmonboard-demo-secure --embedded-cluster --dry-run >"$work/dry-run.log" 2>&1
# One list: the ids are per run, and classes of the JDK's own loaders need none; the first of each
# line is kept, in the order the classes were loaded.
sed -E 's/ id: [0-9]+$//' "$work/help.classlist" "$work/dry-run.classlist" \
  | grep -v ' source: ' | awk '!seen[$0]++' >"$work/all.classlist"
JAVA_OPTS="-Xshare:dump -XX:SharedClassListFile=$work/all.classlist -XX:SharedArchiveFile=$archive -Xlog:cds=error" \
  "$launcher" >"$work/dump.log" 2>&1
printf '%s\n' "$dist" >"$archive.home"
