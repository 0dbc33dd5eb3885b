#!/usr/bin/env bash
# The web runtime's tests, set-up included (works on a fresh Debian machine as root):
#   1. Debian chromium when /usr/bin/chromium is missing (playwright-core drives it; no browser download);
#   2. `npm ci` in web/, then `npm run lint` (ESLint, recommended rules);
#   3. scripts/make_web_fixtures.py (exports + Python golden ids/vectors into web/.fixtures/), the corrupt folders
#      and the pooling kernel's graph variants (make_corrupt_fixtures.py, make_kernel_fixtures.py), the tokenizer
#      configurations of the JS-vs-Python differential test (make_token_fixtures.py);
#   4. the Node tests (token parity, the tokenizer differential test, Node + headless Chromium vectors for model.onnx and model.ort, errors, CLI,
#      transformers.js 4.x on Hugging Face-layout exports, demo page screenshot into artifacts/, the
#      onnxruntime-node backend, the React Native path on a stand-in backend, m2v-edge/sqlite-vec on sqlite-vec's
#      WebAssembly build in Chromium (STS-B recall@10 vs float32), `npm pack` contents, and the example
#      apps in web/examples/ (vite, esbuild, webpack, rollup, Next.js; each with and without onnxruntime-web) built
#      from the packed tarball; M2V_EDGE_SKIP_NEXT=1 leaves out the Next.js app) and tests/test_web_golden.py (the golden files' provenance).
# Usage: scripts/test-web.sh            (PYTHON=/path/to/python to use another interpreter than .venv/bin/python)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH

if [[ ! -x "$PYTHON" ]]; then
  echo "test-web: $PYTHON not found; create the venv first or set PYTHON" >&2
  exit 2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "test-web: node and npm (Node >= 20) are needed" >&2
  exit 2
fi

if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "test-web: installing Debian chromium (apt-get)"
  SUDO=""
  [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
"$CHROMIUM_PATH" --version

# onnxruntime-node (a devDependency, the native backend's tests) ships its CPU binaries in the package: skip its
# optional download step (no network but the registries). The example apps' `npm install` sees this too.
export ONNXRUNTIME_NODE_INSTALL=skip

echo "test-web: npm ci"
(cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error)

echo "test-web: eslint"
(cd "$ROOT/web" && npm run --silent lint)

echo "test-web: fixtures"
"$PYTHON" "$ROOT/scripts/make_web_fixtures.py"
"$PYTHON" "$ROOT/scripts/make_corrupt_fixtures.py"
"$PYTHON" "$ROOT/scripts/make_kernel_fixtures.py"
# The tokenizer differential test's configurations, texts and Python ids (web/test/token-diff.test.js).
"$PYTHON" "$ROOT/scripts/make_token_fixtures.py"

echo "test-web: golden files vs a fresh Python encode"
"$PYTHON" -m pytest -q "$ROOT/tests/test_web_golden.py"

echo "test-web: node tests"
cd "$ROOT/web"
node --test --test-concurrency=1 test/*.test.js
