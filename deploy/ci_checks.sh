#!/usr/bin/env bash
# Deployment checks run by .ci/run: every unit passes `systemd-analyze verify` with no output
# at all (it exits 0 on unknown keys and only warns), setup_vm.sh is shellcheck-clean,
# `setup_vm.sh --prefix` into a scratch root twice leaves the tree unchanged the second time,
# the logrotate file deletes only old numbered rotations (never bot.log), the journald
# drop-in uses only [Journal] keys journald knows, and every long-running unit (the bots and
# the token keeper) restarts forever: `Restart=always` and `StartLimitIntervalSec=0`, so no
# outage can leave a trading unit `failed` during market hours.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Debian tools the checks need (CI runs as root on Debian).
missing=()
for tool in shellcheck rsync logrotate; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy checks: installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "deploy checks: trading units restart forever (never end in failed)"
for unit in deploy/systemd/*.service; do
  # one-shot units (the health check run by its timer, the alert run by OnFailure=) end by design
  if grep -qx 'Type=oneshot' "$unit"; then continue; fi
  if ! grep -qx 'Restart=always' "$unit" || ! grep -qx 'StartLimitIntervalSec=0' "$unit" \
    || grep -q '^StartLimitBurst=' "$unit"; then
    echo "deploy checks: $unit must have Restart=always and StartLimitIntervalSec=0" \
      "(and no StartLimitBurst): a start limit can leave a trading bot failed" >&2
    exit 1
  fi
done

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
echo "deploy checks: calypso command linked onto PATH"
link="$scratch/root/usr/local/bin/calypso"
if [ "$(readlink "$link")" != "$scratch/root/opt/calypso/.venv/bin/calypso" ]; then
  echo "deploy checks: $link does not point into the venv" >&2
  exit 1
fi

echo "deploy checks: logrotate removes only numbered rotations untouched for 30 days"
logs="$scratch/root/opt/calypso/logs/iron_fly_0dte"
for name in bot.log bot.log.1 bot.log.2 bot.log.10; do echo line >"$logs/$name"; done
touch -d '40 days ago' "$logs/bot.log" "$logs/bot.log.2" "$logs/bot.log.10"
# No calypso user in CI: drop the `su` line; seed the state so `daily` is due for every file.
sed '/^[[:space:]]*su /d' "$scratch/root/etc/logrotate.d/calypso" >"$scratch/logrotate.conf"
{
  echo 'logrotate state -- version 2'
  for name in bot.log.1 bot.log.2 bot.log.10; do echo "\"$logs/$name\" 2000-1-1-0:0:0"; done
} >"$scratch/logrotate.state"
chmod 600 "$scratch/logrotate.state"
logrotate --state "$scratch/logrotate.state" "$scratch/logrotate.conf"
kept="$(cd "$logs" && find . -type f -name 'bot.log*' | LC_ALL=C sort | tr '\n' ' ')"
if [ "$kept" != "./bot.log ./bot.log.1 " ]; then
  echo "deploy checks: after logrotate expected bot.log and bot.log.1, found: $kept" >&2
  exit 1
fi

echo "deploy checks: journald drop-in keys"
journald_keys=" Storage Compress Seal SplitMode SyncIntervalSec RateLimitIntervalSec RateLimitBurst \
SystemMaxUse SystemKeepFree SystemMaxFileSize SystemMaxFiles RuntimeMaxUse RuntimeKeepFree \
RuntimeMaxFileSize RuntimeMaxFiles MaxRetentionSec MaxFileSec ForwardToSyslog ForwardToKMsg \
ForwardToConsole ForwardToWall TTYPath MaxLevelStore MaxLevelSyslog MaxLevelKMsg \
MaxLevelConsole MaxLevelWall LineMax ReadKMsg Audit "
section=""
while IFS= read -r line; do
  case "$line" in
    ''|'#'*) continue ;;
    '['*']') section="$line" ;;
    *=*)
      key="${line%%=*}"
      if [ "$section" != "[Journal]" ] || [[ "$journald_keys" != *" $key "* ]]; then
        echo "deploy checks: deploy/journald/calypso.conf: unknown key $key in $section" >&2
        exit 1
      fi ;;
    *) echo "deploy checks: deploy/journald/calypso.conf: bad line: $line" >&2; exit 1 ;;
  esac
done <deploy/journald/calypso.conf
echo "deploy checks: ok"
