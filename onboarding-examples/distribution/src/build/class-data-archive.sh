#!/bin/sh
# Writes DIST/lib/sidecar-bootstrap.classlist, the classes that two training runs of
# DIST/bin/sidecar-bootstrap load (--help, and a dry run on the embedded cluster), then runs the
# launcher once more: finding no archive made for DIST, it dumps DIST/lib/sidecar-bootstrap.jsa,
# a static application class-data archive of those classes (static: Java 17 archives picocli's
# pre-Java-6 classes only in a static archive), with its own class path, and records DIST in
# DIST/lib/sidecar-bootstrap.jsa.home. Usage: class-data-archive.sh DIST WORK_DIR
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
cp "$work/all.classlist" "$dist/lib/sidecar-bootstrap.classlist"
unset VMONBOARD_CDS
"$launcher" --version >"$work/dump.log" 2>&1
test "$(cat "$archive.home")" = "$dist"
test -s "$archive"
