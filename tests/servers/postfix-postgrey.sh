#!/usr/bin/env bash
# A private Postfix instance on a loopback port with postgrey as its policy server:
# real greylisting (450 4.2.0), real unknown-user rejections (550 5.1.1), real
# pipelining. Used by tests/session_postfix.rs and .ci/run. Needs root and the Debian
# packages postfix and postgrey. The system's own Postfix configuration is left alone
# except for one line in /etc/postfix/main.cf that allows the private instance's
# configuration directory (alternate_config_directories).
#
#   postfix-postgrey.sh start SMTP_PORT POLICY_PORT [DIR]   # prints nothing, returns when ready
#   postfix-postgrey.sh stop [DIR]
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
cmd=${1:?usage: $0 start SMTP_PORT POLICY_PORT [DIR] | stop [DIR]}

# shellcheck source=postfix-common.sh
. "$(dirname "$0")/postfix-common.sh"

stop() {
  local dir=$1
  stop_postfix "$dir"
  if [ -f "$dir/postgrey/pid" ]; then
    kill "$(cat "$dir/postgrey/pid")" 2>/dev/null || true
    rm -f "$dir/postgrey/pid"
  fi
}

case "$cmd" in
start)
  port=${2:?SMTP_PORT}; pgport=${3:?POLICY_PORT}; dir=${4:-${TMPDIR:-/tmp}/tempfail-postfix}
  stop "$dir"
  rm -rf "$dir"
  mkdir -p "$dir/postgrey"
  chown postgrey "$dir/postgrey" 2>/dev/null || chown nobody "$dir/postgrey"

  postgrey --inet="127.0.0.1:$pgport" --delay=3 --dbdir="$dir/postgrey" \
    --pidfile="$dir/postgrey/pid" -d

  configure_postfix "$dir" "$port" tempfail-postfix \
    "smtpd_recipient_restrictions = reject_unlisted_recipient, check_policy_service inet:127.0.0.1:$pgport, permit"
  start_postfix "$dir" "$port"
  wait_port "$pgport"
  ;;
stop)
  stop "${2:-${TMPDIR:-/tmp}/tempfail-postfix}"
  ;;
*)
  echo "usage: $0 start SMTP_PORT POLICY_PORT [DIR] | stop [DIR]" >&2
  exit 2
  ;;
esac
