#!/usr/bin/env bash
# A private Postfix instance on a loopback port that limits its clients with anvil:
# at most CONN concurrent connections and RATE messages per anvil_rate_time_unit
# (UNIT seconds) from one client, loopback included (smtpd_client_event_limit_exceptions
# is cleared). It answers with Postfix's own replies: `421 4.7.0 … Error: too many
# connections from …` and `450 4.7.1 Error: too much mail from …`. Mail for
# example.com is accepted and discarded. Used by tests/pace_postfix.rs and .ci/run.
# Needs root and the Debian package postfix. The system's own configuration is left
# alone except for one line in /etc/postfix/main.cf that allows the private
# instance's configuration directory (alternate_config_directories).
#
#   postfix-limits.sh start SMTP_PORT CONN RATE UNIT [DIR]   # returns when ready
#   postfix-limits.sh stop [DIR]
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
cmd=${1:?usage: $0 start SMTP_PORT CONN RATE UNIT [DIR] | stop [DIR]}

# shellcheck source=postfix-common.sh
. "$(dirname "$0")/postfix-common.sh"

case "$cmd" in
start)
  port=${2:?SMTP_PORT}; conn=${3:?CONN}; rate=${4:?RATE}; unit=${5:?UNIT}
  dir=${6:-${TMPDIR:-/tmp}/tempfail-postfix-limits}
  stop_postfix "$dir"
  rm -rf "$dir"
  configure_postfix "$dir" "$port" tempfail-postfix-limits \
    "local_recipient_maps =" \
    "default_process_limit = 100" \
    "smtpd_client_event_limit_exceptions =" \
    "smtpd_client_connection_count_limit = $conn" \
    "smtpd_client_message_rate_limit = $rate" \
    "anvil_rate_time_unit = ${unit}s" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
  start_postfix "$dir" "$port"
  ;;
stop)
  stop_postfix "${2:-${TMPDIR:-/tmp}/tempfail-postfix-limits}"
  ;;
*)
  echo "usage: $0 start SMTP_PORT CONN RATE UNIT [DIR] | stop [DIR]" >&2
  exit 2
  ;;
esac
