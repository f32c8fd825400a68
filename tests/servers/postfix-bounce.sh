#!/usr/bin/env bash
# A private Postfix instance on 127.0.0.1:PORT that relays by recipient domain to three
# Postfix smtp-sink servers and mails its bounces, delay warnings and success notices to
# a fourth that saves them: mail for hard.test is refused at RCPT (`550 5.1.1 User
# unknown`), mail for soft.test deferred at RCPT (`452 4.2.2 Mailbox full`) until it
# expires after maximal_queue_lifetime (with a delay warning after delay_warning_time),
# mail for ok.test accepted; notices to bounces.test are saved one file each in
# DIR/notices. Used by tests/bounce_postfix.rs. Needs root and the Debian package postfix.
# The system's own configuration is left alone except for one line in
# /etc/postfix/main.cf that allows the private instance's configuration directory.
#
#   postfix-bounce.sh start SMTP_PORT SINK_BASE_PORT [DIR]   # sinks on SINK_BASE_PORT..+3
#   postfix-bounce.sh stop [DIR]
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
cmd=${1:?usage: $0 start SMTP_PORT SINK_BASE_PORT [DIR] | stop [DIR]}

# shellcheck source=postfix-common.sh
. "$(dirname "$0")/postfix-common.sh"

stop_sinks() {
  local dir=$1
  if [ -f "$dir/sinks.pid" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/sinks.pid"
    rm -f "$dir/sinks.pid"
  fi
}

case "$cmd" in
start)
  port=${2:?SMTP_PORT}; base=${3:?SINK_BASE_PORT}
  dir=${4:-${TMPDIR:-/tmp}/tempfail-postfix-bounce}
  stop_sinks "$dir"
  stop_postfix "$dir"
  rm -rf "$dir"
  mkdir -p "$dir/notices"
  chmod 777 "$dir/notices"
  hard=$base; soft=$((base + 1)); ok=$((base + 2)); notices=$((base + 3))
  configure_postfix "$dir" "$port" tempfail-postfix-bounce \
    "relay_domains = hard.test, soft.test, ok.test, bounces.test" \
    "transport_maps = inline:{hard.test=smtp:[127.0.0.1]:$hard, soft.test=smtp:[127.0.0.1]:$soft, ok.test=smtp:[127.0.0.1]:$ok, bounces.test=smtp:[127.0.0.1]:$notices}" \
    "smtp_host_lookup = native" \
    "disable_dns_lookups = yes" \
    "smtp_tls_security_level = none" \
    "queue_run_delay = 1s" \
    "minimal_backoff_time = 2s" \
    "maximal_backoff_time = 2s" \
    "delay_warning_time = 1s" \
    "maximal_queue_lifetime = 8s" \
    "bounce_queue_lifetime = 8s" \
    "smtp_connect_timeout = 5s"
  : >"$dir/sinks.pid"
  smtp-sink -u nobody -f RCPT -B "550 5.1.1 User unknown" "127.0.0.1:$hard" 20 &
  echo $! >>"$dir/sinks.pid"
  smtp-sink -u nobody -r RCPT -b "452 4.2.2 Mailbox full" "127.0.0.1:$soft" 20 &
  echo $! >>"$dir/sinks.pid"
  smtp-sink -u nobody "127.0.0.1:$ok" 20 &
  echo $! >>"$dir/sinks.pid"
  smtp-sink -u nobody -d "$dir/notices/%H%M%S." "127.0.0.1:$notices" 20 &
  echo $! >>"$dir/sinks.pid"
  for p in "$hard" "$soft" "$ok" "$notices"; do wait_port "$p"; done
  start_postfix "$dir" "$port"
  ;;
stop)
  dir=${2:-${TMPDIR:-/tmp}/tempfail-postfix-bounce}
  stop_sinks "$dir"
  stop_postfix "$dir"
  ;;
*)
  echo "usage: $0 start SMTP_PORT SINK_BASE_PORT [DIR] | stop [DIR]" >&2
  exit 2
  ;;
esac
