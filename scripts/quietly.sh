# Sourced by the test scripts: `quietly LOG cmd args...` runs a build step
# with all its output in LOG, so a passing run prints no pages of compiler
# and cmake chatter; when the step fails the log is printed, then it fails.
quietly() {
  local log=$1
  shift
  mkdir -p "$(dirname "$log")"
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED: $* (its output follows; also in $log)" >&2
    cat "$log" >&2
    return 1
  fi
}
