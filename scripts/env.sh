# Sourced by the scripts: the settings every dojo script shares.
# OpenMPI refuses to run as root without these two (CI runs as root).
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1
  export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
DOJO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOJO_BUILD=${DOJO_BUILD:-$DOJO_ROOT/build}
DOJO_JOBS=${DOJO_JOBS:-$(nproc)}
export DOJO_ROOT DOJO_BUILD DOJO_JOBS

# Configures (once) and builds the default preset.
dojo_build() {
  if [ ! -f "$DOJO_BUILD/build.ninja" ]; then
    cmake -S "$DOJO_ROOT" -B "$DOJO_BUILD" --preset default
  fi
  cmake --build "$DOJO_BUILD" -j "$DOJO_JOBS"
}
