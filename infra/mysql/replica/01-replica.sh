#!/usr/bin/env bash
# infra/mysql/replica/01-replica.sh: makes this server a read-only GTID replica of the primary.
#
# What it does (idempotent: running it again re-points the replica and restarts replication from
# where it is, e.g. after the replication password was rotated):
#   1. waits until the primary accepts the replication user (so the primary's own init script has
#      run), and checks that the two servers have different server_id (and, on MySQL 8, gtid_mode ON);
#   2. the first time only: refuses a replica that already holds application databases (it must
#      start empty and get everything by replication), and clears the replica's own binary log and
#      GTID history, so its executed set is exactly the primary's. With REPLICA_SEEDED=1 (a replica
#      loaded from a dump of the primary, whose GTID position the dump set) it skips both;
#   3. points replication at the primary with GTID auto-positioning and starts it:
#        MySQL 8:  CHANGE REPLICATION SOURCE TO SOURCE_HOST=…, SOURCE_AUTO_POSITION=1, …; START REPLICA
#        MariaDB:  CHANGE MASTER TO MASTER_HOST=…, MASTER_USE_GTID=slave_pos, …; START SLAVE
#   4. makes the server read-only for everyone without a global privilege:
#        MySQL 8:  SET PERSIST read_only=ON, super_read_only=ON (kept across restarts, in mysqld-auto.cnf)
#        MariaDB:  SET GLOBAL read_only=ON (mariadb-replica.cnf sets it at start-up too)
#   5. waits until both replication threads run (IO and SQL "Yes"), or fails with the server's
#      Last_IO_Error / Last_SQL_Error.
#
# Where it runs:
#   - the official mysql:8 (or mariadb) image, mounted in /docker-entrypoint-initdb.d/ of the
#     replica: the entrypoint runs it once, on an empty datadir (sourced or executed); the replica
#     keeps following the primary after restarts by itself. Do not set MYSQL_DATABASE / MYSQL_USER
#     on the replica: databases and users arrive from the primary.
#   - by hand (docker exec … bash /docker-entrypoint-initdb.d/01-replica.sh) or from
#     infra/mysql/local-pair.ts over TCP (DB_HOST / DB_PORT).
#   Works on MySQL 8.0.23+ and MariaDB 10.6+ (the flavour is read from SELECT VERSION()).
#
# Environment (defaults in brackets):
#   PRIMARY_HOST                (required) the primary, as the replica reaches it (Swarm: its service name)
#   PRIMARY_PORT                [3306]
#   REPLICATION_USER            [replicator]
#   REPLICATION_PASSWORD_FILE   [/run/secrets/db_replication_password]
#   REPLICATION_SSL             [1 on MySQL 8, 0 on MariaDB] encrypt the replication stream
#                               (MySQL 8 generates certificates; MariaDB 10.11 needs ssl_cert/ssl_key)
#   PRIMARY_WAIT_SECONDS        [300] how long to wait for the primary
#   REPLICA_START_TIMEOUT       [60]  how long to wait for both replication threads to run
#   REPLICA_SEEDED              [0]   1: this replica was loaded from a dump of the primary that set
#                                     its GTID position (README: "Seeding a replica from a dump")
#   How it connects to this (replica) server:
#   DB_HOST / DB_PORT           [unset / 3306] TCP; unset: the local socket
#   DB_SOCKET                   [$SOCKET from the image's entrypoint, else /var/run/mysqld/mysqld.sock]
#   DB_ADMIN_USER               [root]
#   DB_ADMIN_PASSWORD_FILE      [MYSQL_ROOT_PASSWORD_FILE, MARIADB_ROOT_PASSWORD_FILE, else the
#                                MYSQL_ROOT_PASSWORD / MARIADB_ROOT_PASSWORD variable, else none]
#   DB_CLIENT                   [mariadb if installed, else mysql]
#   DB_WAIT_SECONDS             [30]  how long to wait for the admin connection
# Secret files hold the password alone; surrounding whitespace (a trailing newline) is ignored.
#
# Exit status: 0 replication runs; 1 with a message naming what failed.

bookstore_replica_init() (
  set -euo pipefail
  local me='01-replica.sh'
  die() { printf '%s: ERROR: %s\n' "$me" "$*" >&2; exit 1; }
  note() { printf '%s: %s\n' "$me" "$*"; }

  # --- helpers -------------------------------------------------------------------------------
  trim() { local s=$1; s="${s#"${s%%[![:space:]]*}"}"; s="${s%"${s##*[![:space:]]}"}"; printf '%s' "$s"; }
  read_secret() { # read_secret VAR_NAME_OF_PATH default_path -> the password
    local var=$1 path=${!1:-$2} value
    [[ -e $path ]] || die "$var: secret file $path does not exist (set $var to its path)"
    [[ -r $path ]] || die "$var: secret file $path is not readable"
    value=$(trim "$(cat -- "$path")")
    [[ -n $value ]] || die "$var: secret file $path is empty"
    [[ $value != *$'\n'* ]] || die "$var: secret file $path holds more than one line"
    printf '%s' "$value"
  }
  sql_string() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }
  option_value() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
  field() { # field NAME_REGEX <<<"vertical (\G) status" -> the value of the first matching field
    awk -v re="^($1)\$" '{ key = $0; sub(/^[ \t]+/, "", key); sub(/:.*/, "", key) }
      key ~ re { value = $0; sub(/^[^:]*:[ ]?/, "", value); print value; exit }'
  }

  # --- settings ------------------------------------------------------------------------------
  local primary_host=${PRIMARY_HOST:-} primary_port=${PRIMARY_PORT:-3306}
  [[ -n $primary_host ]] || die "PRIMARY_HOST is not set: name the primary server (Swarm: its service name)"
  [[ $primary_host =~ ^[A-Za-z0-9_.:-]{1,255}$ ]] || die "PRIMARY_HOST='$primary_host' is not a host name"
  [[ $primary_port =~ ^[0-9]{1,5}$ ]] || die "PRIMARY_PORT='$primary_port' is not a port"
  local repl_user=${REPLICATION_USER:-replicator} repl_password
  [[ $repl_user =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "REPLICATION_USER='$repl_user': use 1-32 letters, digits or _"
  repl_password=$(read_secret REPLICATION_PASSWORD_FILE /run/secrets/db_replication_password)
  local primary_wait=${PRIMARY_WAIT_SECONDS:-300} start_timeout=${REPLICA_START_TIMEOUT:-60}
  [[ $primary_wait =~ ^[0-9]+$ ]] || die "PRIMARY_WAIT_SECONDS='$primary_wait' is not a number of seconds"
  [[ $start_timeout =~ ^[0-9]+$ ]] || die "REPLICA_START_TIMEOUT='$start_timeout' is not a number of seconds"

  # --- connections ---------------------------------------------------------------------------
  local client=${DB_CLIENT:-}
  if [[ -z $client ]]; then
    if command -v mariadb >/dev/null 2>&1; then client=mariadb; elif command -v mysql >/dev/null 2>&1; then client=mysql; else die "no mariadb or mysql client on PATH (set DB_CLIENT)"; fi
  fi
  local admin_user=${DB_ADMIN_USER:-root} admin_password=''
  local pw_file=${DB_ADMIN_PASSWORD_FILE:-${MYSQL_ROOT_PASSWORD_FILE:-${MARIADB_ROOT_PASSWORD_FILE:-}}}
  if [[ -n $pw_file ]]; then
    [[ -r $pw_file ]] || die "admin password file $pw_file is not readable (DB_ADMIN_PASSWORD_FILE)"
    admin_password=$(trim "$(cat -- "$pw_file")")
  else
    admin_password=${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}
  fi
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bookstore-replica-init.XXXXXX") || die "cannot create a temporary directory"
  trap 'rm -rf -- "$tmp"' EXIT
  local where
  {
    printf '[client]\nuser=%s\n' "$(option_value "$admin_user")"
    [[ -n $admin_password ]] && printf 'password=%s\n' "$(option_value "$admin_password")"
    if [[ -n ${DB_HOST:-} ]]; then
      printf 'host=%s\nport=%s\nprotocol=TCP\n' "$DB_HOST" "${DB_PORT:-3306}"
      where="$DB_HOST:${DB_PORT:-3306}"
    else
      where=${DB_SOCKET:-${SOCKET:-/var/run/mysqld/mysqld.sock}}
      printf 'socket=%s\nprotocol=SOCKET\n' "$where"
    fi
  } >"$tmp/admin.cnf"
  # The primary, as the replication user. loose-: only MySQL's client knows this option (it lets
  # caching_sha2_password log in without TLS); MariaDB's client ignores it.
  printf '[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\nprotocol=TCP\nloose-get-server-public-key=1\n' \
    "$(option_value "$repl_user")" "$(option_value "$repl_password")" "$primary_host" "$primary_port" >"$tmp/primary.cnf"
  chmod 600 "$tmp/admin.cnf" "$tmp/primary.cnf"
  admin() { "$client" --defaults-file="$tmp/admin.cnf" --connect-timeout=5 --batch --skip-column-names "$@"; }
  primary() { "$client" --defaults-file="$tmp/primary.cnf" --connect-timeout=5 --batch --skip-column-names "$@"; }
  run_sql() { # run_sql "what it does" [client options] <<<SQL ; prints the result, dies with the server's message
    local what=$1; shift
    if ! admin "$@" >"$tmp/out" 2>"$tmp/err"; then die "$what failed on $where: $(cat "$tmp/err")"; fi
    cat "$tmp/out"
  }

  local limit=${DB_WAIT_SECONDS:-30} deadline
  [[ $limit =~ ^[0-9]+$ ]] || die "DB_WAIT_SECONDS='$limit' is not a number of seconds"
  deadline=$((SECONDS + limit))
  until admin -e 'SELECT 1' >/dev/null 2>"$tmp/err"; do
    (( SECONDS < deadline )) || die "cannot connect to this replica ($where) as $admin_user after ${limit}s: $(cat "$tmp/err")"
    sleep 0.5
  done
  local version flavour
  version=$(run_sql 'reading the server version' <<<'SELECT VERSION();')
  if [[ $version == *MariaDB* ]]; then flavour=mariadb; else flavour=mysql; fi
  note "replica $where: $version ($flavour)"

  # --- 1. the primary --------------------------------------------------------------------------
  deadline=$((SECONDS + primary_wait))
  note "waiting for the primary $primary_host:$primary_port to accept $repl_user (up to ${primary_wait}s)"
  until primary -e 'SELECT 1' >/dev/null 2>"$tmp/err"; do
    (( SECONDS < deadline )) || die "the primary $primary_host:$primary_port did not accept the replication user $repl_user within ${primary_wait}s (is it up, has its 01-databases.sh run, do both sides use the same REPLICATION_PASSWORD_FILE secret?): $(cat "$tmp/err")"
    sleep 0.5
  done
  local primary_info primary_id primary_version primary_log_bin local_id
  primary_info=$(primary -e 'SELECT @@GLOBAL.server_id, VERSION(), @@GLOBAL.log_bin;' 2>"$tmp/err") || die "reading the primary's server_id failed: $(cat "$tmp/err")"
  IFS=$'\t' read -r primary_id primary_version primary_log_bin <<<"$primary_info"
  local_id=$(run_sql 'reading server_id' <<<'SELECT @@GLOBAL.server_id;')
  note "primary $primary_host:$primary_port is up: server_id $primary_id, $primary_version"
  [[ $primary_log_bin == 1 ]] || die "the primary has binary logging off: start it with its replication config (log_bin)"
  [[ $primary_id != "$local_id" ]] || die "the primary and this replica both have server_id $local_id: give each server its own (primary.cnf: 1, replica.cnf: 2)"
  if [[ $flavour == mariadb && $primary_version != *MariaDB* ]] || [[ $flavour == mysql && $primary_version == *MariaDB* ]]; then
    die "the primary runs $primary_version and this replica $version: use the same flavour on both (their GTIDs differ)"
  fi
  if [[ $flavour == mysql ]]; then
    local gtid_local gtid_primary
    gtid_local=$(run_sql 'reading gtid_mode' <<<'SELECT @@GLOBAL.gtid_mode;')
    gtid_primary=$(primary -e 'SELECT @@GLOBAL.gtid_mode;' 2>"$tmp/err") || die "reading the primary's gtid_mode failed: $(cat "$tmp/err")"
    [[ $gtid_local == ON && $gtid_primary == ON ]] || die "gtid_mode must be ON on both servers (primary: $gtid_primary, replica: $gtid_local): start them with primary.cnf / replica.cnf"
  fi

  # --- 2. first time: start from the primary's history only ----------------------------------
  local status_sql
  if [[ $flavour == mysql ]]; then status_sql='SHOW REPLICA STATUS\G'; else status_sql='SHOW SLAVE STATUS\G'; fi
  local status
  status=$(run_sql 'reading the replication status' --column-names <<<"$status_sql")
  local seeded=${REPLICA_SEEDED:-0}
  [[ $seeded == 0 || $seeded == 1 ]] || die "REPLICA_SEEDED='$seeded': use 0 or 1"
  if [[ -z $status && $seeded == 1 ]]; then
    local position
    if [[ $flavour == mysql ]]; then
      position=$(run_sql 'reading gtid_executed' <<<'SELECT @@GLOBAL.gtid_executed;')
    else
      position=$(run_sql 'reading gtid_slave_pos' <<<'SELECT @@GLOBAL.gtid_slave_pos;')
    fi
    [[ -n $position ]] || die "REPLICA_SEEDED=1 but this replica has no GTID position ($([[ $flavour == mysql ]] && echo gtid_executed || echo gtid_slave_pos) is empty): load the dump with its GTID statements first (README: \"Seeding a replica from a dump\")"
    note "seeded from a dump: replicating from GTID position $position"
  elif [[ -z $status ]]; then
    local own_databases
    own_databases=$(run_sql 'listing databases' <<<"SELECT GROUP_CONCAT(schema_name ORDER BY schema_name SEPARATOR ', ') FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys');")
    if [[ -n $own_databases && $own_databases != NULL ]]; then
      die "this replica has never replicated but already holds databases ($own_databases). A replica starts from an empty datadir and gets the databases from the primary (do not set MYSQL_DATABASE / MYSQL_USER on it); to seed it from a dump instead, follow 'Seeding a replica from a dump' in infra/mysql/README.md"
    fi
    note "first start: clearing this replica's own binary log and GTID history"
    if [[ $flavour == mysql ]]; then
      # RESET MASTER is gone in 8.4; RESET BINARY LOGS AND GTIDS arrived in 8.2.
      if ! admin -e 'RESET BINARY LOGS AND GTIDS' 2>"$tmp/err"; then
        run_sql 'RESET MASTER' <<<'RESET MASTER;' >/dev/null
      fi
    else
      run_sql 'RESET MASTER' <<<"RESET MASTER; SET GLOBAL gtid_slave_pos = '';" >/dev/null
    fi
  else
    note "replication was configured before: re-pointing it (GTID position kept)"
  fi

  # --- 3 and 4. follow the primary, read-only ------------------------------------------------
  local ssl=${REPLICATION_SSL:-}
  if [[ -z $ssl ]]; then if [[ $flavour == mysql ]]; then ssl=1; else ssl=0; fi; fi
  [[ $ssl == 0 || $ssl == 1 ]] || die "REPLICATION_SSL='$ssl': use 0 or 1"
  if [[ $flavour == mysql ]]; then
    run_sql 'configuring replication (CHANGE REPLICATION SOURCE TO)' >/dev/null <<SQL
SET GLOBAL super_read_only = OFF;
STOP REPLICA;
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = $(sql_string "$primary_host"),
  SOURCE_PORT = $primary_port,
  SOURCE_USER = $(sql_string "$repl_user"),
  SOURCE_PASSWORD = $(sql_string "$repl_password"),
  SOURCE_AUTO_POSITION = 1,
  SOURCE_SSL = $ssl,
  GET_SOURCE_PUBLIC_KEY = 1,
  SOURCE_CONNECT_RETRY = 10,
  SOURCE_RETRY_COUNT = 86400;
START REPLICA;
SET PERSIST read_only = ON;
SET PERSIST super_read_only = ON;
SQL
  else
    run_sql 'configuring replication (CHANGE MASTER TO)' >/dev/null <<SQL
STOP SLAVE;
CHANGE MASTER TO
  MASTER_HOST = $(sql_string "$primary_host"),
  MASTER_PORT = $primary_port,
  MASTER_USER = $(sql_string "$repl_user"),
  MASTER_PASSWORD = $(sql_string "$repl_password"),
  MASTER_USE_GTID = slave_pos,
  MASTER_SSL = $ssl,
  MASTER_CONNECT_RETRY = 10;
START SLAVE;
SET GLOBAL read_only = ON;
SQL
  fi
  local read_only
  read_only=$(run_sql 'reading read_only' <<<'SELECT @@GLOBAL.read_only;')
  [[ $read_only == 1 ]] || die "read_only did not turn on"
  note "following $primary_host:$primary_port with GTID auto-positioning; read_only=ON$([[ $flavour == mysql ]] && echo ', super_read_only=ON (persisted)')"

  # --- 5. both threads running -----------------------------------------------------------------
  local io sql_running deadline=$((SECONDS + start_timeout))
  while :; do
    status=$(run_sql 'reading the replication status' --column-names <<<"$status_sql")
    io=$(field '(Slave|Replica)_IO_Running' <<<"$status")
    sql_running=$(field '(Slave|Replica)_SQL_Running' <<<"$status")
    [[ $io == Yes && $sql_running == Yes ]] && break
    if [[ $sql_running == No && $(field 'Last_SQL_Errno' <<<"$status") != 0 ]]; then
      die "the replication SQL thread stopped: $(field 'Last_SQL_Error' <<<"$status")"
    fi
    if (( SECONDS >= deadline )); then
      die "replication did not start within ${start_timeout}s (IO thread: ${io:-?}, SQL thread: ${sql_running:-?}): $(field 'Last_IO_Error' <<<"$status") $(field 'Last_SQL_Error' <<<"$status")"
    fi
    sleep 0.2
  done
  note "replication running (IO: $io, SQL: $sql_running)"
)

case "${1:-}" in
  -h | --help) sed -n '2,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) bookstore_replica_init ;;
esac
