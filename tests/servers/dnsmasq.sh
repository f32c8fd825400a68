#!/usr/bin/env bash
# A private dnsmasq on 127.0.0.1:PORT serving only the records in RECORDS (a
# dnsmasq configuration file: mx-host=, host-record=, local=/test/ ...), with no
# upstream, no /etc/hosts and every query logged to DIR/dnsmasq.log. The system's
# dnsmasq service (if any) is neither used nor touched. Used by
# adapters/tempfail-tokio/tests/driver_servers.rs. Needs the Debian package
# dnsmasq-base (or dnsmasq).
#
#   dnsmasq.sh start PORT RECORDS [DIR]   # returns when it answers
#   dnsmasq.sh stop [DIR]
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
usage="usage: $0 start PORT RECORDS [DIR] | stop [DIR]"
cmd=${1:?$usage}

stop() {
  local dir=$1
  if [ -f "$dir/dnsmasq.pid" ]; then
    kill "$(cat "$dir/dnsmasq.pid")" 2>/dev/null || true
    rm -f "$dir/dnsmasq.pid"
  fi
}

case "$cmd" in
start)
  port=${2:?PORT}; records=${3:?RECORDS}; dir=${4:-${TMPDIR:-/tmp}/tempfail-dnsmasq}
  stop "$dir"
  mkdir -p "$dir"
  : >"$dir/dnsmasq.log"
  dnsmasq --no-daemon --port "$port" --listen-address 127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --conf-file="$records" --user=root \
    --log-queries --log-facility="$dir/dnsmasq.log" 2>"$dir/dnsmasq.stderr" &
  echo $! >"$dir/dnsmasq.pid"
  for _ in $(seq 1 100); do
    if grep -q "started, version" "$dir/dnsmasq.log" 2>/dev/null; then exit 0; fi
    if ! kill -0 "$(cat "$dir/dnsmasq.pid")" 2>/dev/null; then
      echo "dnsmasq exited (see $dir/dnsmasq.log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "dnsmasq did not start (see $dir/dnsmasq.log)" >&2
  exit 1
  ;;
stop)
  stop "${2:-${TMPDIR:-/tmp}/tempfail-dnsmasq}"
  ;;
*)
  echo "$usage" >&2
  exit 2
  ;;
esac
