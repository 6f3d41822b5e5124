#!/usr/bin/env bash
# help_check.sh DOJO_BIN_DIR: every command prints its usage on --help and -h
# and exits 0, doing nothing else: each `dojo COMMAND` (the list `dojo
# --help` prints), dojo-launch and scripts/dojorun, and every script in
# scripts/ (its header comment). A script that ran its work instead would
# exceed the 10 s limit or leave its output behind.
set -u
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
failures=0
check() {  # check PATTERN COMMAND...: exit 0 within 10 s, a line matching PATTERN
  local pattern=$1
  shift
  local output code
  output=$(timeout 10 "$@" 2>&1)
  code=$?
  if [ "$code" -ne 0 ] || ! grep -Eq -- "$pattern" <<<"$output"; then
    echo "FAIL: $* exited $code; wanted 0 and a line matching /$pattern/:"
    printf '%s\n' "$output" | head -5
    failures=$((failures + 1))
  fi
}
commands=$("$bin/dojo" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(wc -w <<<"$commands")" -ge 10 ] || { echo "FAIL: dojo --help lists too few commands"; exit 1; }
check '^usage: dojo COMMAND' "$bin/dojo" --help
check 'Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error' "$bin/dojo" --help
for c in $commands; do
  for flag in --help -h; do
    check "^usage: dojo $c" "$bin/dojo" "$c" "$flag"
  done
done
for flag in --help -h; do
  check '^usage: dojo launch' "$bin/dojo-launch" "$flag"
  check 'dojorun takes the same arguments' env DOJO_BIN_DIR="$bin" "$root/scripts/dojorun" "$flag"
done
for script in "$root"/scripts/*; do
  name=${script##*/}
  [ "$name" = env.sh ] || [ "$name" = dojorun ] && continue
  for flag in --help -h; do
    check '[a-z]' "$script" "$flag"
  done
done
echo "help: $(wc -w <<<"$commands") dojo commands, dojo-launch, dojorun and $(ls "$root/scripts" | wc -l) scripts checked, $failures failed"
[ "$failures" -eq 0 ]
