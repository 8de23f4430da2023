#!/usr/bin/env bash
# Deployment checks run by .ci/run: every unit passes `systemd-analyze verify` with no output
# at all (it exits 0 on unknown keys and only warns), setup_vm.sh is shellcheck-clean, and
# `setup_vm.sh --prefix` into a scratch root twice leaves the tree unchanged the second time.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Debian tools the checks need (CI runs as root on Debian).
missing=()
for tool in shellcheck rsync; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy checks: installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

shellcheck deploy/setup_vm.sh deploy/ci_checks.sh .ci/run

echo "deploy checks: setup_vm.sh --prefix (first run)"
deploy/setup_vm.sh --prefix "$scratch/root" >"$scratch/first.log"
snapshot() { (cd "$scratch/root" && find . -path ./opt/calypso/.venv -prune -o -type f -print0 \
  | LC_ALL=C sort -z | xargs -0 sha256sum); }
snapshot >"$scratch/first.sum"

echo "deploy checks: setup_vm.sh --prefix (second run must change nothing)"
deploy/setup_vm.sh --prefix "$scratch/root" >"$scratch/second.log"
snapshot >"$scratch/second.sum"
if ! diff -u "$scratch/first.sum" "$scratch/second.sum"; then
  echo "deploy checks: second setup run changed files" >&2
  exit 1
fi
if ! grep -q "done: 0 change(s)" "$scratch/second.log"; then
  echo "deploy checks: second setup run reported changes:" >&2
  cat "$scratch/second.log" >&2
  exit 1
fi

echo "deploy checks: systemd-analyze verify"
units=("$scratch"/root/etc/systemd/system/*)
verify_out="$(systemd-analyze verify "${units[@]}" 2>&1)" || {
  echo "$verify_out" >&2
  exit 1
}
if [ -n "$verify_out" ]; then
  echo "deploy checks: systemd-analyze verify printed warnings:" >&2
  echo "$verify_out" >&2
  exit 1
fi
echo "deploy checks: ok"
