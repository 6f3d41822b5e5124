#!/usr/bin/env bash
# gpu_plugin_check.sh DOJO PLUGIN: on a build with CUDA, the GPU parts are a
# plugin loaded on first use. A command that needs no GPU maps no CUDA, cuBLAS
# or NCCL library; a job that asks for nccl on a machine without a GPU gets
# the clear error from inside the plugin; a missing plugin is named.
set -u
dojo=$1
plugin=$2
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -f "$plugin" ] || fail "no plugin at $plugin"
! ldd "$dojo" | grep -Eq 'libcuda|libcublas|libnccl' || fail "dojo links a CUDA library: $(ldd "$dojo")"
"$dojo" version | grep -q "gpu: CUDA and NCCL in the plugin $plugin, loaded when a job uses a GPU" ||
  fail "dojo version does not name the plugin"

"$dojo" capacity serve --listen 127.0.0.1:0 --as-of 2024-06-30 >"$work/serve" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q serving "$work/serve" && break; sleep 0.05; done
grep -q serving "$work/serve" || { cat "$work/serve"; fail "capacity serve did not start"; }
if grep -Eq 'libcuda|libcublas|libnccl|libdojo-gpu' "/proc/$pid/maps"; then
  grep -E 'libcuda|libcublas|libnccl|libdojo-gpu' "/proc/$pid/maps" >&2
  fail "an idle capacity exporter mapped GPU libraries"
fi
kill "$pid"; wait "$pid" 2>/dev/null; pid=
echo "no GPU library in dojo or an idle capacity exporter"

job=(configs/jobs/fashion-mnist.yaml --set resources.ranks=1 --set metrics.enabled=false
     --set workload.max_steps=1 --run-dir "$work/run")
mpirun -np 1 "$dojo" worker "${job[@]}" --set collectives.backend=nccl >"$work/out" 2>&1
[ $? -eq 1 ] || { cat "$work/out"; fail "nccl without a GPU should exit 1"; }
grep -Eq "the nccl backend needs a CUDA device and none is visible" "$work/out" ||
  { cat "$work/out"; fail "no clear message from the plugin"; }
mpirun -np 1 -x DOJO_GPU_PLUGIN=/nonexistent/libdojo-gpu.so "$dojo" worker "${job[@]}" \
  --set collectives.backend=nccl >"$work/out" 2>&1
[ $? -eq 1 ] || { cat "$work/out"; fail "a missing plugin should exit 1"; }
grep -q "the GPU plugin /nonexistent/libdojo-gpu.so could not be loaded (" "$work/out" ||
  { cat "$work/out"; fail "a missing plugin is not named"; }
mpirun -np 1 -x DOJO_GPU_PLUGIN=/nonexistent/libdojo-gpu.so "$dojo" worker "${job[@]}" \
  --set collectives.backend=auto >"$work/out" 2>&1
[ $? -eq 0 ] || { cat "$work/out"; fail "auto without the plugin should fall back to mpi"; }
echo "nccl without a GPU: the plugin's message; a missing plugin: named; auto: mpi"
