#!/usr/bin/env bash
# expect.sh CODE PATTERN... -- COMMAND...: runs COMMAND and passes when it
# exits with CODE and, for every PATTERN (an extended regex), some line of its
# combined output matches.
set -u
want_code=$1
shift
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  patterns+=("$1")
  shift
done
[ $# -gt 0 ] && shift
output=$("$@" 2>&1)
code=$?
printf '%s\n' "$output"
if [ "$code" -ne "$want_code" ]; then
  echo "expect.sh: exit code $code, wanted $want_code" >&2
  exit 1
fi
for pattern in "${patterns[@]}"; do
  if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
    echo "expect.sh: no line matches: $pattern" >&2
    exit 1
  fi
done
