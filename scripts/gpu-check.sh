#!/bin/sh
# Issue 13, item 6: the one run to make on a machine with a real NVIDIA GPU (lent through the
# device tool), whose output becomes the test fixture tests/fixtures/gpu/ in place of the fake
# nvidia-smi the tests use until then. Writes under $OUT (default ./gpu-check-out):
#   probe.txt            resources/probe/probe.sh's whole output (nvidia-gpu, nvidia-header,
#                        pci-gpu and lspci records), as the control center reads it over SSH
#   nvidia-smi.txt       5 s of the stream the runtime's GPU reader reads, with its arguments
#                        (agents-runtime/src/metrics/gpu-reader.ts, NVIDIA_SMI_ARGS)
#   metrics.txt          the runtime daemon's own /metrics after its GPU reader ran a few
#                        seconds (only where Node 20 is installed and dist/runtime is carried:
#                        build it with `node agents-runtime/build-runtime.mjs`)
#   daemon.log           that daemon's log
#   machine.txt          what ran it: kernel, driver, nvidia-smi's banner
# Every step is bounded (timeout) and one failing does not stop the others; what failed is
# written beside what it would have made (*.error). Usage, from the repository root:
#   OUT=/some/dir sh scripts/gpu-check.sh
set -u
out=${OUT:-./gpu-check-out}
mkdir -p "$out"
root=$(pwd)
has() { command -v "$1" >/dev/null 2>&1; }

{
  uname -a
  if has nvidia-smi; then timeout 20 nvidia-smi 2>&1 | head -n 12; else echo 'nvidia-smi: not installed'; fi
} >"$out/machine.txt" 2>&1

timeout 60 sh resources/probe/probe.sh /opt/sutazai </dev/null >"$out/probe.txt" 2>"$out/probe.error" || echo "probe.sh exit $?" >>"$out/probe.error"

# The same arguments as NVIDIA_SMI_ARGS: the reader runs nvidia-smi once and reads a line per GPU per second.
if has nvidia-smi; then
  timeout 5 nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu \
    --format=csv,noheader,nounits -l 1 </dev/null >"$out/nvidia-smi.txt" 2>"$out/nvidia-smi.error"
else
  echo 'nvidia-smi: not installed' >"$out/nvidia-smi.error"
fi

bundle=$root/dist/runtime/sutazai-runtime.cjs
if ! has node; then
  echo 'node: not installed (the daemon part needs Node 20)' >"$out/metrics.error"
elif [ ! -f "$bundle" ]; then
  echo "no $bundle: build it with node agents-runtime/build-runtime.mjs and carry dist/runtime" >"$out/metrics.error"
else
  work=$(mktemp -d)
  # A daemon supervising one sleep, its metrics on loopback; its gRPC port is never connected to,
  # so the TLS files it names are never read (the listener loads TLS at the first connection).
  port=$((20000 + $$ % 20000))
  printf 'version: 1\nprocesses:\n  - name: idle\n    command: sleep\n    args: ["600"]\n' >"$work/manifest.yaml"
  printf 'manifest: manifest.yaml\nlisten: 127.0.0.1:%s\ntls: { ca: %s/ca.pem, cert: %s/server.pem, key: %s/server.key }\nstate_dir: %s/state\nlog_dir: %s/logs\nmetrics: { listen: 127.0.0.1:%s }\n' \
    "$((port + 1))" "$work" "$work" "$work" "$work" "$work" "$port" >"$work/runtime.yaml"
  (cd "$work" && exec timeout 40 node --lite-mode --no-expose-wasm "$bundle" run --config "$work/runtime.yaml" >"$out/daemon.log" 2>&1) &
  daemon=$!
  sleep 8
  if ! node -e '
    require("node:http").get(process.argv[1], (res) => { res.pipe(process.stdout); res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1)); })
      .on("error", (e) => { console.error(String(e)); process.exit(1); });' "http://127.0.0.1:$port/metrics" >"$out/metrics.txt" 2>"$out/metrics.error"; then
    echo "fetching /metrics failed" >>"$out/metrics.error"
  fi
  # Stops the daemon's program too (a daemon stopped by a signal leaves its programs running, by design).
  (cd "$work" && timeout 30 node "$bundle" stop-all --config "$work/runtime.yaml" --timeout-ms 10000 >>"$out/daemon.log" 2>&1)
  kill "$daemon" 2>/dev/null
  wait "$daemon" 2>/dev/null
  rm -rf "$work"
fi
# Empty error files said nothing: leave only the ones that did.
for f in "$out"/*.error; do [ -s "$f" ] || rm -f "$f"; done
ls -l "$out"
