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

stop() {
  local dir=$1
  if [ -f "$dir/etc/main.cf" ]; then
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/postgrey/pid" ]; then
    kill "$(cat "$dir/postgrey/pid")" 2>/dev/null || true
    rm -f "$dir/postgrey/pid"
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
  port=${2:?SMTP_PORT}; pgport=${3:?POLICY_PORT}; dir=${4:-${TMPDIR:-/tmp}/tempfail-postfix}
  stop "$dir"
  rm -rf "$dir"
  mkdir -p "$dir/etc" "$dir/spool" "$dir/lib" "$dir/postgrey"
  chown postfix "$dir/lib"
  chown postgrey "$dir/postgrey" 2>/dev/null || chown nobody "$dir/postgrey"

  postgrey --inet="127.0.0.1:$pgport" --delay=3 --dbdir="$dir/postgrey" \
    --pidfile="$dir/postgrey/pid" -d

  cp /etc/postfix/master.cf "$dir/etc/master.cf"
  cp /etc/postfix/main.cf "$dir/etc/main.cf"
  # The public SMTP service becomes a loopback port, not chrooted.
  sed -i -E "s|^smtp([[:space:]]+)inet[[:space:]].*smtpd\$|127.0.0.1:$port inet n - n - - smtpd|" "$dir/etc/master.cf"
  postconf -c "$dir/etc" -e \
    "queue_directory = $dir/spool" \
    "data_directory = $dir/lib" \
    "syslog_name = tempfail-postfix" \
    "maillog_file_prefixes = $dir" \
    "maillog_file = $dir/maillog" \
    "inet_protocols = ipv4" \
    "inet_interfaces = loopback-only" \
    "myhostname = mx.example.com" \
    "mydestination = example.com, localhost" \
    "smtpd_tls_security_level = none" \
    "local_transport = discard" \
    "smtpd_recipient_restrictions = reject_unlisted_recipient, check_policy_service inet:127.0.0.1:$pgport, permit"
  # Allow this configuration directory (the only change to the system's config).
  current=$(postconf -h alternate_config_directories)
  case " $current " in
    *" $dir/etc "*) ;;
    *) postconf -e "alternate_config_directories = ${current:+$current }$dir/etc" ;;
  esac
  postfix -c "$dir/etc" check
  postfix -c "$dir/etc" start-fg >"$dir/master.log" 2>&1 &
  echo $! >"$dir/start-fg.pid"
  wait_port "$port"
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
