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

stop() {
  local dir=$1
  if [ -f "$dir/etc/main.cf" ]; then
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/start-fg.pid" ]; then
    kill "$(cat "$dir/start-fg.pid")" 2>/dev/null || true
    rm -f "$dir/start-fg.pid"
  fi
}

wait_port() {
  local port=$1
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

case "$cmd" in
start)
  port=${2:?SMTP_PORT}; conn=${3:?CONN}; rate=${4:?RATE}; unit=${5:?UNIT}
  dir=${6:-${TMPDIR:-/tmp}/tempfail-postfix-limits}
  stop "$dir"
  rm -rf "$dir"
  mkdir -p "$dir/etc" "$dir/spool" "$dir/lib"
  chown postfix "$dir/lib"
  cp /etc/postfix/master.cf "$dir/etc/master.cf"
  cp /etc/postfix/main.cf "$dir/etc/main.cf"
  sed -i -E "s|^smtp([[:space:]]+)inet[[:space:]].*smtpd\$|127.0.0.1:$port inet n - n - - smtpd|" "$dir/etc/master.cf"
  postconf -c "$dir/etc" -e \
    "queue_directory = $dir/spool" \
    "data_directory = $dir/lib" \
    "syslog_name = tempfail-postfix-limits" \
    "maillog_file_prefixes = $dir" \
    "maillog_file = $dir/maillog" \
    "inet_protocols = ipv4" \
    "inet_interfaces = loopback-only" \
    "myhostname = mx.example.com" \
    "mydestination = example.com, localhost" \
    "smtpd_tls_security_level = none" \
    "local_transport = discard" \
    "local_recipient_maps =" \
    "default_process_limit = 100" \
    "smtpd_client_event_limit_exceptions =" \
    "smtpd_client_connection_count_limit = $conn" \
    "smtpd_client_message_rate_limit = $rate" \
    "anvil_rate_time_unit = ${unit}s" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
  current=$(postconf -h alternate_config_directories)
  case " $current " in
    *" $dir/etc "*) ;;
    *) postconf -e "alternate_config_directories = ${current:+$current }$dir/etc" ;;
  esac
  postfix -c "$dir/etc" check
  postfix -c "$dir/etc" start-fg >"$dir/master.log" 2>&1 &
  echo $! >"$dir/start-fg.pid"
  wait_port "$port"
  ;;
stop)
  stop "${2:-${TMPDIR:-/tmp}/tempfail-postfix-limits}"
  ;;
*)
  echo "usage: $0 start SMTP_PORT CONN RATE UNIT [DIR] | stop [DIR]" >&2
  exit 2
  ;;
esac
