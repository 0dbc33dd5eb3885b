#!/usr/bin/env bash
# `make test`: every stage runs, even after one fails, and a summary names each stage and its result.
# Usage: scripts/test-all.sh [STAGE ...]   (default: lint test-python test-web check-arm64; each a make target)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(lint test-python test-web check-arm64)
declare -a results
passed=0
failed=0
for stage in "${stages[@]}"; do
  echo "=== make ${stage}"
  started=$SECONDS
  if make --no-print-directory "$stage"; then
    results+=("  ${stage}: passed ($((SECONDS - started)) s)")
    passed=$((passed + 1))
  else
    results+=("  ${stage}: FAILED ($((SECONDS - started)) s)")
    failed=$((failed + 1))
  fi
done
echo "=== make test summary"
printf '%s\n' "${results[@]}"
echo "stages: ${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
