#!/usr/bin/env bash
# Checks that the Debian 12 packages attune needs to build, test, lint and run
# its local stack are installed; installs the missing ones when run as root,
# otherwise prints the exact command to run and exits 1.
# Silent when everything is present.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  librdkafka-dev libcjson-dev libhiredis-dev libmicrohttpd-dev
  libcurl4-openssl-dev libssl-dev libcmocka-dev libutf8proc-dev liblinear-dev
  redis-server kcat
  cppcheck clang clang-format clang-tidy libclang-rt-14-dev wamerican
  default-jre-headless maven
  python3 python3-venv curl
)

installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == "install ok installed" ]]
}

# Java and Maven may come from outside apt (another JDK package, SDKMAN, a
# tarball on PATH): a working command counts as the package.
java_ok() {
  local out major
  command -v java >/dev/null 2>&1 || return 1
  out=$(java -version 2>&1) || return 1
  # 'version "17.0.15"', 'version "11.0.2"', 'version "1.8.0_392"'
  [[ $out =~ version\ \"([0-9]+)(\.([0-9]+))? ]] || return 1
  major=${BASH_REMATCH[1]}
  if [[ $major == 1 ]]; then
    major=${BASH_REMATCH[3]:-0}
  fi
  ((major >= 11)) # Kafka 3.9 brokers need Java 11 or newer
}

mvn_ok() {
  command -v mvn >/dev/null 2>&1 && mvn -v >/dev/null 2>&1
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if installed "$pkg"; then
    continue
  fi
  case $pkg in
  default-jre-headless) java_ok && continue ;;
  maven) mvn_ok && continue ;;
  esac
  missing+=("$pkg")
done

((${#missing[@]} == 0)) && exit 0

echo "deps: missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  echo "deps: installing them with apt-get" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  exit 0
fi

{
  echo "deps: install them with:"
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
} >&2
exit 1
