#!/usr/bin/env bash
# expect.sh CODE PATTERN -- COMMAND...: runs COMMAND and passes when it exits
# with CODE and its combined output matches the extended regex PATTERN.
set -u
want_code=$1 pattern=$2
shift 2
[ "$1" = "--" ] && shift
output=$("$@" 2>&1)
code=$?
printf '%s\n' "$output"
if [ "$code" -ne "$want_code" ]; then
  echo "expect.sh: exit code $code, wanted $want_code" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
  echo "expect.sh: output does not match: $pattern" >&2
  exit 1
fi
