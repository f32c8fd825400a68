# Shared by postfix-postgrey.sh and postfix-limits.sh (sourced, not run): a private
# Postfix instance in DIR listening on 127.0.0.1:PORT, with the system's own
# configuration left alone except for one line in /etc/postfix/main.cf that allows
# the instance's configuration directory (alternate_config_directories).

# Stops the instance in DIR (and whatever its start-fg left), if any.
stop_postfix() {
  local dir=$1
  if [ -f "$dir/etc/main.cf" ]; then
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/start-fg.pid" ]; then
    kill "$(cat "$dir/start-fg.pid")" 2>/dev/null || true
    rm -f "$dir/start-fg.pid"
  fi
}

# Returns when something listens on 127.0.0.1:PORT (10 s at most).
wait_port() {
  local port=$1
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

# Creates the instance's configuration in DIR: the system's master.cf with the public
# SMTP service moved to 127.0.0.1:PORT (not chrooted), and a main.cf for a loopback
# mail server for example.com that discards what it accepts. Further `postconf -e`
# settings are the remaining arguments.
configure_postfix() {
  local dir=$1 port=$2 name=$3
  shift 3
  mkdir -p "$dir/etc" "$dir/spool" "$dir/lib"
  chown postfix "$dir/lib"
  cp /etc/postfix/master.cf "$dir/etc/master.cf"
  cp /etc/postfix/main.cf "$dir/etc/main.cf"
  sed -i -E "s|^smtp([[:space:]]+)inet[[:space:]].*smtpd\$|127.0.0.1:$port inet n - n - - smtpd|" "$dir/etc/master.cf"
  postconf -c "$dir/etc" -e \
    "queue_directory = $dir/spool" \
    "data_directory = $dir/lib" \
    "syslog_name = $name" \
    "maillog_file_prefixes = $dir" \
    "maillog_file = $dir/maillog" \
    "inet_protocols = ipv4" \
    "inet_interfaces = loopback-only" \
    "myhostname = mx.example.com" \
    "mydestination = example.com, localhost" \
    "smtpd_tls_security_level = none" \
    "local_transport = discard" \
    "$@"
  # Allow this configuration directory (the only change to the system's config).
  local current
  current=$(postconf -h alternate_config_directories)
  case " $current " in
    *" $dir/etc "*) ;;
    *) postconf -e "alternate_config_directories = ${current:+$current }$dir/etc" ;;
  esac
  postfix -c "$dir/etc" check
}

# Starts the configured instance in DIR and returns when it listens on PORT.
start_postfix() {
  local dir=$1 port=$2
  postfix -c "$dir/etc" start-fg >"$dir/master.log" 2>&1 &
  echo $! >"$dir/start-fg.pid"
  wait_port "$port"
}
