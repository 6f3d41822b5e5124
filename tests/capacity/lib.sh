# Shared by the capacity test scripts; they set `dojo`, `seed` and `fail`.

# expect_error SUBCOMMAND PATTERN ARGS...: `dojo capacity SUBCOMMAND --config
# SEED ARGS...` fails, and its output matches the extended regex PATTERN.
expect_error() {
  local subcommand=$1 pattern=$2
  shift 2
  local out code=0
  out=$("$dojo" capacity "$subcommand" --config "$seed" "$@" 2>&1) || code=$?
  [ "$code" -ne 0 ] || fail "accepted: $subcommand $*"
  grep -Eq -- "$pattern" <<<"$out" || fail "for $subcommand $*: wanted /$pattern/, got: $out"
}
