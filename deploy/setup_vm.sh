#!/usr/bin/env bash
# Install or update CALYPSO on a VM: system user, /opt/calypso, virtual environment, example
# configs (only where no config exists), systemd units, logrotate, journald retention, the
# `calypso` command on PATH, daemon-reload and enable.
# Idempotent: running it again changes nothing that is already in place.
#
#   sudo deploy/setup_vm.sh                   install into / (the VM)
#   deploy/setup_vm.sh --prefix /tmp/root     install into a scratch root (tests; no users, no systemctl)
#   deploy/setup_vm.sh --dry-run              print what would be done, change nothing
set -euo pipefail

BOTS=(iron_fly_0dte delta_neutral rolling_put_diagonal)
UNITS=(iron_fly_0dte.service delta_neutral.service rolling_put_diagonal.service
  calypso-token-keeper.service calypso-health.service calypso-health.timer
  calypso-alert@.service)
ENABLE=(iron_fly_0dte.service delta_neutral.service rolling_put_diagonal.service
  calypso-token-keeper.service calypso-health.timer)

prefix=""
dry_run=0
python_bin="${PYTHON:-python3.11}"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
changes=0

usage() {
  cat <<'USAGE'
Usage: deploy/setup_vm.sh [--prefix DIR] [--dry-run] [--python PYTHON]
  --prefix DIR   install under DIR instead of / (skips user creation, chown and systemctl)
  --dry-run      print each action instead of doing it
  --python BIN   interpreter for the virtual environment (default: python3.11)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "setup_vm: --prefix needs a directory" >&2; exit 2; }
      prefix="$(realpath -m "$2")"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --python) [ $# -ge 2 ] || { echo "setup_vm: --python needs an interpreter" >&2; exit 2; }
      python_bin="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup_vm: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

opt="$prefix/opt/calypso"
etc="$prefix/etc/calypso"
unit_dir="$prefix/etc/systemd/system"
logrotate_dir="$prefix/etc/logrotate.d"
journald_dir="$prefix/etc/systemd/journald.conf.d"
bin_dir="$prefix/usr/local/bin"
journald_changed=0
units_changed=0

say() { printf 'setup_vm: %s\n' "$*"; }

# Run a command that changes the system, or print it under --dry-run.
act() {
  changes=$((changes + 1))
  if [ "$dry_run" -eq 1 ]; then
    say "would run: $*"
  else
    say "$*"
    "$@"
  fi
}

# Write stdin to a file only when its content differs (keeps reruns change-free). Feed it with
# `< <(...)`, not a pipe: a piped function runs in a subshell and its change count is lost.
install_content() {
  local target="$1" mode="$2" tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  # A failed render inside `< <(...)` does not stop the script: never install an empty file.
  if [ ! -s "$tmp" ]; then
    rm -f "$tmp"
    echo "setup_vm: refusing to install empty content as $target" >&2
    exit 1
  fi
  if [ -f "$target" ] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    return 0
  fi
  act install -D -m "$mode" "$tmp" "$target"
  rm -f "$tmp"
}

# Units and configs refer to /opt/calypso and /etc/calypso; under --prefix they move with it.
render() {
  sed -e "s#/opt/calypso#${opt}#g" -e "s#/etc/calypso#${etc}#g" "$1"
}

ensure_user() {
  if [ -n "$prefix" ]; then
    say "skip: system user (scratch root)"
  elif id calypso >/dev/null 2>&1; then
    say "ok: user calypso exists"
  else
    act useradd --system --home-dir /opt/calypso --shell /usr/sbin/nologin calypso
  fi
}

ensure_dirs() {
  local dir
  for dir in "$opt" "$opt/data" "$opt/logs" "$etc" "$unit_dir" "$logrotate_dir" \
    "$journald_dir" "$bin_dir"; do
    [ -d "$dir" ] || act mkdir -p "$dir"
  done
  for bot in "${BOTS[@]}"; do
    [ -d "$opt/logs/$bot" ] || act mkdir -p "$opt/logs/$bot"
  done
}

sync_code() {
  if [ "$(realpath -m "$source_dir")" = "$(realpath -m "$opt")" ]; then
    say "ok: code already in $opt"
    return
  fi
  if ! command -v rsync >/dev/null 2>&1; then
    if [ -z "$prefix" ] && command -v apt-get >/dev/null 2>&1; then
      act apt-get install -y -qq rsync
    else
      echo "setup_vm: rsync is required to copy the code" >&2
      exit 1
    fi
  fi
  # --delete drops modules removed from the source; operator configs are never touched.
  # --omit-dir-times: installing a config.json changes its directory's mtime, which would
  # otherwise count as a pending change on every later run.
  local rsync_args=(-rlt --omit-dir-times --delete --exclude=__pycache__ --exclude=config.json
    --exclude=.git)
  local item pending
  for item in pyproject.toml README.md CLAUDE.md shared bots deploy docs; do
    [ -e "$source_dir/$item" ] || continue
    if [ -d "$source_dir/$item" ]; then
      pending="$(rsync "${rsync_args[@]}" --dry-run --itemize-changes \
        "$source_dir/$item/" "$opt/$item/" 2>/dev/null || echo changed)"
      [ -z "$pending" ] || act rsync "${rsync_args[@]}" "$source_dir/$item/" "$opt/$item/"
    elif ! cmp -s "$source_dir/$item" "$opt/$item"; then
      act install -m 0644 "$source_dir/$item" "$opt/$item"
    fi
  done
}

ensure_venv() {
  if [ ! -x "$opt/.venv/bin/python" ]; then
    act "$python_bin" -m venv "$opt/.venv"
  fi
  local installed="" source_version
  if [ -x "$opt/.venv/bin/python" ]; then
    installed="$("$opt/.venv/bin/python" -c \
      'import importlib.metadata as m; print(m.version("calypso"))' 2>/dev/null || true)"
  fi
  source_version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$source_dir/pyproject.toml" | head -n 1)"
  local stamp="$opt/.venv/.calypso-source-hash" hash
  hash="$(cd "$source_dir" && find pyproject.toml shared bots -name '*.py' -o -name '*.toml' \
    -o -name '*.json' -o -name '*.sql' | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)"
  if [ "$installed" = "$source_version" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    say "ok: calypso $installed installed in $opt/.venv"
    return
  fi
  act "$opt/.venv/bin/python" -m pip install --quiet --upgrade pip
  act "$opt/.venv/bin/python" -m pip install --quiet "$opt"
  if [ "$dry_run" -eq 0 ]; then printf '%s\n' "$hash" >"$stamp"; fi
}

ensure_configs() {
  for bot in "${BOTS[@]}"; do
    local example="$source_dir/bots/$bot/config/config.example.json"
    local target="$opt/bots/$bot/config/config.json"
    if [ -f "$target" ]; then
      say "ok: $target exists (left as the operator wrote it)"
    elif [ -f "$example" ]; then
      act install -D -m 0640 "$example" "$target"
    fi
  done
  if [ ! -f "$etc/calypso.env" ]; then
    install_content "$etc/calypso.env" 0640 < <(render "$source_dir/deploy/calypso.env.example")
  else
    say "ok: $etc/calypso.env exists"
  fi
}

ensure_units() {
  local unit before=$changes
  for unit in "${UNITS[@]}"; do
    install_content "$unit_dir/$unit" 0644 < <(render "$source_dir/deploy/systemd/$unit")
  done
  [ "$changes" -eq "$before" ] || units_changed=1
  install_content "$logrotate_dir/calypso" 0644 < <(render "$source_dir/deploy/logrotate/calypso")
  before=$changes
  install_content "$journald_dir/calypso.conf" 0644 \
    < <(render "$source_dir/deploy/journald/calypso.conf")
  [ "$changes" -eq "$before" ] || journald_changed=1
}

# `calypso` on every operator's PATH (and sudo's secure_path): a link into the venv.
ensure_cli_link() {
  local target="$opt/.venv/bin/calypso"
  if [ -L "$bin_dir/calypso" ] && [ "$(readlink "$bin_dir/calypso")" = "$target" ]; then
    say "ok: $bin_dir/calypso -> $target"
  else
    act ln -sfn "$target" "$bin_dir/calypso"
  fi
}

# The token keeper needs CALYPSO_SAXO_ENV; an old calypso.env is never overwritten, so say so.
check_env_file() {
  [ -f "$etc/calypso.env" ] || return 0
  if ! grep -Eq '^CALYPSO_SAXO_ENV=(live|sim)[[:space:]]*$' "$etc/calypso.env"; then
    say "WARNING: $etc/calypso.env has no CALYPSO_SAXO_ENV=live|sim line;" \
      "calypso-token-keeper will not start until it does (see deploy/calypso.env.example)"
  fi
}

ensure_ownership() {
  if [ -n "$prefix" ]; then
    say "skip: chown (scratch root)"
    return
  fi
  local path
  for path in "$opt/data" "$opt/logs" "$opt"/logs/* "$opt"/bots/*/config/config.json; do
    [ -e "$path" ] || continue
    if [ "$(stat -c %U:%G "$path")" != "calypso:calypso" ]; then
      act chown calypso:calypso "$path"
    fi
  done
  if [ -f "$etc/calypso.env" ] && [ "$(stat -c %U:%G "$etc/calypso.env")" != "root:calypso" ]; then
    act chown root:calypso "$etc/calypso.env"
  fi
}

enable_units() {
  if [ -n "$prefix" ] || ! command -v systemctl >/dev/null 2>&1; then
    say "skip: systemctl daemon-reload/enable (scratch root or no systemd)"
    return
  fi
  # Also reload when systemd still holds older unit files (an earlier run stopped half way).
  if [ "$units_changed" -eq 1 ] \
    || systemctl show -p NeedDaemonReload --value "${UNITS[@]}" 2>/dev/null | grep -qx yes; then
    act systemctl daemon-reload
  else
    say "ok: units unchanged (no daemon-reload)"
  fi
  if [ "$journald_changed" -eq 1 ]; then
    act systemctl restart systemd-journald
  fi
  local unit
  for unit in "${ENABLE[@]}"; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      say "ok: $unit enabled"
    else
      act systemctl enable "$unit"
    fi
  done
}

if [ -z "$prefix" ] && [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "setup_vm: run as root (sudo), or use --prefix DIR / --dry-run" >&2
  exit 2
fi

ensure_user
ensure_dirs
sync_code
ensure_venv
ensure_configs
ensure_units
ensure_cli_link
ensure_ownership
check_env_file
enable_units
say "done: $changes change(s)${prefix:+ under $prefix}"
