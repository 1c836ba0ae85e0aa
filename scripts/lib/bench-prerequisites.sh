# Sourced by the benchmarks that build SSH test hosts (bench-probe.sh, bench-install.sh).
# The caller declares the associative array need_cmd (Debian package -> a command it
# installs) and then calls these.

# require_root_and_packages NPM_SCRIPT WHAT: exits with a remedy unless this runs as root
# (network namespaces need it); as root, installs the packages of need_cmd that are missing.
require_root_and_packages() {
  local script=$1 what=$2 pkg
  local missing=()
  for pkg in "${!need_cmd[@]}"; do
    [ -x "${need_cmd[$pkg]}" ] || missing+=("$pkg")
  done
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $what builds test hosts in network namespaces and needs root." >&2
    if ((${#missing[@]})); then
      echo "       Missing Debian packages: ${missing[*]}." >&2
      echo "Remedy: sudo apt-get install -y --no-install-recommends ${missing[*]} && sudo -E npm run $script" >&2
    else
      echo "Remedy: sudo -E npm run $script" >&2
    fi
    exit 1
  fi
  if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# require_tsx: the benchmarks run TypeScript through the tsx devDependency.
require_tsx() {
  if [ ! -x node_modules/.bin/tsx ]; then
    echo "error: node_modules/.bin/tsx is missing. Remedy: npm ci (or npm test, which installs the dependencies)" >&2
    exit 1
  fi
}
