#!/usr/bin/env bash
# `npm run bench:runtime`: our sutazai-runtime daemon against PM2 (npm, a devDependency) and
# supervisord (Debian package `supervisor`) supervising the same trivial program, interleaved
# in one run (tests/bench/runtime.bench.ts): restart latency after kill -9 (kills in turns),
# then the whole footprint (daemon and every helper it starts, PSS summed) with 10 children
# and its CPU with 100 idle children, the three running at once. Installs `supervisor` and
# `musl-tools` when missing and this runs as root; builds the runtime bundle into a temp dir
# (removed on exit).
# Prints figures; exits 0 whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: supervisord (a peer), and musl-tools, whose musl-gcc builds the native log
# collector as release bundles carry it (agents-runtime/native/build-native.mjs: with the
# static glibc instead it holds 0.7 MB more, which would be measured as ours).
missing=()
command -v supervisord >/dev/null 2>&1 || missing+=(supervisor)
command -v musl-gcc >/dev/null 2>&1 || missing+=(musl-tools)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: Debian packages ${missing[*]} are not installed and installing them needs root." >&2
    echo "Remedy: sudo apt-get install -y --no-install-recommends ${missing[*]} && npm run bench:runtime" >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # policy-rc.d/containers may refuse to start the packaged service; the benchmark runs its own supervisord.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for bin in tsx pm2; do
  if [ ! -x "node_modules/.bin/$bin" ]; then
    echo "error: node_modules/.bin/$bin is missing. Remedy: npm ci (or npm test, which installs the dependencies)" >&2
    exit 1
  fi
done

bundle_dir="$(mktemp -d "${TMPDIR:-/tmp}/sutazai-bench-bundle-XXXXXX")"
trap 'rm -rf "$bundle_dir"' EXIT
node agents-runtime/build-runtime.mjs --outdir "$bundle_dir" >/dev/null
SUTAZAI_BENCH_RUNTIME_BUNDLE="$bundle_dir/sutazai-runtime.cjs" node_modules/.bin/tsx tests/bench/runtime.bench.ts
