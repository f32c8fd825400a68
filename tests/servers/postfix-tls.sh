#!/usr/bin/env bash
# A private Postfix instance with two SMTP services on one port of two loopback
# addresses: TLS_ADDR:PORT offers STARTTLS (smtpd_tls_security_level = may) with a
# certificate for the names SANS signed by a CA made here for the test, and
# PLAIN_ADDR:PORT offers no STARTTLS. Mail for DOMAINS (any local part) is accepted
# and discarded; TLS sessions are logged (smtpd_tls_loglevel = 1) in DIR/maillog.
# The CA the client must trust is DIR/tls/ca.pem; DIR/tls/other-ca.pem is a second
# CA that signed nothing (a client trusting only it refuses the server).
# Used by adapters/tempfail-tokio/tests/driver_servers.rs and its benchmark. Needs
# root and the Debian packages postfix and openssl. The system's own Postfix
# configuration is left alone except for one line in /etc/postfix/main.cf that
# allows the private instance's configuration directory (alternate_config_directories).
#
#   postfix-tls.sh start PORT TLS_ADDR PLAIN_ADDR "DOMAINS" "SANS" [DIR]   # returns when ready
#   postfix-tls.sh stop [DIR]
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
usage="usage: $0 start PORT TLS_ADDR PLAIN_ADDR \"DOMAINS\" \"SANS\" [DIR] | stop [DIR]"
cmd=${1:?$usage}

# shellcheck source=postfix-common.sh
. "$(dirname "$0")/postfix-common.sh"

# Returns when something listens on ADDR:PORT (10 s at most).
wait_addr() {
  local addr=$1 port=$2
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $addr:$port" >&2
  return 1
}

# The test CA, a second CA, and the server's certificate for SANS.
make_certs() {
  local tls=$1 sans=$2 san="" n
  mkdir -p "$tls"
  for n in $sans; do san="${san:+$san,}DNS:$n"; done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=tempfail test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=tempfail other CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/other-ca.key" -out "$tls/other-ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${sans%% *}" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" 2>/dev/null
  chmod 600 "$tls"/*.key
}

case "$cmd" in
start)
  port=${2:?PORT}; tls_addr=${3:?TLS_ADDR}; plain_addr=${4:?PLAIN_ADDR}
  domains=${5:?DOMAINS}; sans=${6:?SANS}
  dir=${7:-${TMPDIR:-/tmp}/tempfail-postfix-tls}
  stop_postfix "$dir"
  rm -rf "$dir"
  make_certs "$dir/tls" "$sans"
  configure_postfix "$dir" "$port" tempfail-postfix-tls \
    "mydestination = localhost, ${domains// /, }" \
    "local_recipient_maps =" \
    "smtpd_tls_cert_file = $dir/tls/server.pem" \
    "smtpd_tls_key_file = $dir/tls/server.key" \
    "smtpd_tls_loglevel = 1" \
    "smtpd_tls_received_header = yes" \
    "default_process_limit = 50"
  # One smtpd per address: STARTTLS on the first, none on the second.
  sed -i -E "s|^127\.0\.0\.1:$port inet n - n - - smtpd\$|$tls_addr:$port inet n - n - - smtpd -o smtpd_tls_security_level=may\n$plain_addr:$port inet n - n - - smtpd -o smtpd_tls_security_level=none|" "$dir/etc/master.cf"
  postfix -c "$dir/etc" check
  postfix -c "$dir/etc" start-fg >"$dir/master.log" 2>&1 &
  echo $! >"$dir/start-fg.pid"
  wait_addr "$tls_addr" "$port"
  wait_addr "$plain_addr" "$port"
  ;;
stop)
  stop_postfix "${2:-${TMPDIR:-/tmp}/tempfail-postfix-tls}"
  ;;
*)
  echo "$usage" >&2
  exit 2
  ;;
esac
