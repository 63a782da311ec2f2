#!/usr/bin/env bash
# infra/mysql/primary/01-databases.sh: the primary's databases, application users and replication user.
#
# What it does (idempotent: run it again to rotate passwords or after a failed start):
#   - creates the databases `auth`, `catalog`, `purchase` (utf8mb4, utf8mb4_unicode_ci) if missing;
#   - creates one application user per service (`auth`, `catalog`, `purchase` @ '%'), sets its
#     password from its secret file, and grants it privileges ON ITS OWN DATABASE ONLY. It refuses
#     (exit 1) to leave a user with any global privilege: a global ALL also grants READ ONLY ADMIN
#     (MariaDB) / SUPER (MySQL), which lets the user write on a read-only replica;
#   - creates the replication user (`replicator` @ '%') with REPLICATION SLAVE and REPLICATION CLIENT
#     on *.* and nothing else;
#   - checks that binary logging (and, on MySQL 8, gtid_mode) is on, so a replica can follow.
#   Everything is written to the binary log on purpose: the replica gets the databases and the
#   users by replication.
#
# Where it runs:
#   - the official mysql:8 (or mariadb) image, mounted in /docker-entrypoint-initdb.d/ of the
#     primary: the entrypoint runs it once, on an empty datadir, against its temporary server
#     (sourced or executed; it talks to the server through the socket as root);
#   - by hand or from infra/mysql/local-pair.ts over TCP: set DB_HOST (and DB_PORT).
#   Works on MySQL 8.0.23+ and MariaDB 10.6+ (the flavour is read from SELECT VERSION()).
#
# Environment (all optional; defaults in brackets):
#   AUTH_DB_PASSWORD_FILE       [/run/secrets/auth_db_password]      password of the auth user
#   CATALOG_DB_PASSWORD_FILE    [/run/secrets/catalog_db_password]   password of the catalog user
#   PURCHASE_DB_PASSWORD_FILE   [/run/secrets/purchase_db_password]  password of the purchase user
#   REPLICATION_PASSWORD_FILE   [/run/secrets/db_replication_password] password of the replication user
#   AUTH_DB_USER / CATALOG_DB_USER / PURCHASE_DB_USER  [auth / catalog / purchase]
#   AUTH_DB_NAME / CATALOG_DB_NAME / PURCHASE_DB_NAME  [auth / catalog / purchase]
#   REPLICATION_USER            [replicator]
#   CREATE_REPLICATION_USER     [1]    0: no replication user and no REPLICATION_PASSWORD_FILE needed
#                                      (an external server whose replicas its provider manages)
#   DB_USER_HOST                ['%']  host part of every account this script creates
#   REQUIRE_BINLOG              [1]    0 skips the binary log / GTID check (an external server
#                                      without a replica of ours, e.g. a managed RDS instance)
#   How it connects (the admin account):
#   DB_HOST / DB_PORT           [unset / 3306] TCP; unset: the local socket
#   DB_SOCKET                   [$SOCKET from the image's entrypoint, else /var/run/mysqld/mysqld.sock]
#   DB_ADMIN_USER               [root]
#   DB_ADMIN_PASSWORD_FILE      [MYSQL_ROOT_PASSWORD_FILE, MARIADB_ROOT_PASSWORD_FILE, else the
#                                MYSQL_ROOT_PASSWORD / MARIADB_ROOT_PASSWORD variable, else none]
#   DB_CLIENT                   [mariadb if installed, else mysql]
#   DB_WAIT_SECONDS             [30]   how long to wait for the admin connection
# Secret files hold the password alone; surrounding whitespace (a trailing newline) is ignored.
#
# Exit status: 0 done; 1 with a message naming what failed.

bookstore_primary_init() (
  set -euo pipefail
  local me='01-databases.sh'
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
  identifier() { # identifier VAR default -> a checked name
    local var=$1 value=${!1:-$2}
    [[ $value =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "$var='$value': use 1-32 letters, digits or _"
    printf '%s' "$value"
  }
  sql_string() { # a quoted SQL string literal (backslash escapes: the default sql_mode)
    local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"
  }
  option_value() { # a double-quoted value for a client option file
    local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"
  }

  # --- settings ------------------------------------------------------------------------------
  local user_host=${DB_USER_HOST:-%}
  [[ $user_host =~ ^[A-Za-z0-9_.%:-]{1,60}$ ]] || die "DB_USER_HOST='$user_host' is not a host pattern"
  local services=(auth catalog purchase) svc upper
  local -A db_name db_user db_password
  for svc in "${services[@]}"; do
    upper=${svc^^}
    db_name[$svc]=$(identifier "${upper}_DB_NAME" "$svc")
    db_user[$svc]=$(identifier "${upper}_DB_USER" "$svc")
    db_password[$svc]=$(read_secret "${upper}_DB_PASSWORD_FILE" "/run/secrets/${svc}_db_password")
  done
  local repl_user repl_password with_replication=${CREATE_REPLICATION_USER:-1}
  [[ $with_replication == 0 || $with_replication == 1 ]] || die "CREATE_REPLICATION_USER='$with_replication': use 0 or 1"
  if [[ $with_replication == 1 ]]; then
    repl_user=$(identifier REPLICATION_USER replicator)
    repl_password=$(read_secret REPLICATION_PASSWORD_FILE /run/secrets/db_replication_password)
  fi

  # --- the admin connection ------------------------------------------------------------------
  local client=${DB_CLIENT:-}
  if [[ -z $client ]]; then
    if command -v mariadb >/dev/null 2>&1; then client=mariadb; elif command -v mysql >/dev/null 2>&1; then client=mysql; else die "no mariadb or mysql client on PATH (set DB_CLIENT)"; fi
  fi
  local admin_user admin_password=''
  admin_user=${DB_ADMIN_USER:-root}
  local pw_file=${DB_ADMIN_PASSWORD_FILE:-${MYSQL_ROOT_PASSWORD_FILE:-${MARIADB_ROOT_PASSWORD_FILE:-}}}
  if [[ -n $pw_file ]]; then
    [[ -r $pw_file ]] || die "admin password file $pw_file is not readable (DB_ADMIN_PASSWORD_FILE)"
    admin_password=$(trim "$(cat -- "$pw_file")")
  else
    admin_password=${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}
  fi
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bookstore-primary-init.XXXXXX") || die "cannot create a temporary directory"
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
  chmod 600 "$tmp/admin.cnf"
  # --defaults-file: only this file, so a host's own client config cannot redirect us.
  admin() { "$client" --defaults-file="$tmp/admin.cnf" --connect-timeout=5 --batch --skip-column-names "$@"; }
  run_sql() { # run_sql "what it does" <<<SQL ; prints the result, dies with the server's message
    if ! admin >"$tmp/out" 2>"$tmp/err"; then die "$1 failed on $where: $(cat "$tmp/err")"; fi
    cat "$tmp/out"
  }

  local limit=${DB_WAIT_SECONDS:-30} deadline
  [[ $limit =~ ^[0-9]+$ ]] || die "DB_WAIT_SECONDS='$limit' is not a number of seconds"
  deadline=$((SECONDS + limit))
  until admin -e 'SELECT 1' >/dev/null 2>"$tmp/err"; do
    (( SECONDS < deadline )) || die "cannot connect to $where as $admin_user after ${limit}s: $(cat "$tmp/err")"
    sleep 0.5
  done

  local version flavour
  version=$(run_sql 'reading the server version' <<<'SELECT VERSION();')
  if [[ $version == *MariaDB* ]]; then flavour=mariadb; else flavour=mysql; fi
  note "connected to $where: $version ($flavour)"

  if [[ ${REQUIRE_BINLOG:-1} != 0 ]]; then
    local log_bin gtid_mode
    log_bin=$(run_sql 'reading log_bin' <<<'SELECT @@GLOBAL.log_bin;')
    [[ $log_bin == 1 ]] || die "binary logging is off on $where: a replica cannot follow it. Start the server with $( [[ $flavour == mysql ]] && echo primary.cnf || echo mariadb-primary.cnf ) (log_bin), or set REQUIRE_BINLOG=0 for a server without our replica"
    if [[ $flavour == mysql ]]; then
      gtid_mode=$(run_sql 'reading gtid_mode' <<<'SELECT @@GLOBAL.gtid_mode;')
      [[ $gtid_mode == ON ]] || die "gtid_mode is $gtid_mode on $where: the replica uses GTID auto-positioning; start the server with primary.cnf (gtid_mode=ON, enforce_gtid_consistency=ON)"
    fi
  fi

  # --- databases and application users ---------------------------------------------------------
  # Database-level privileges: enough to run the service and its migrations, nothing global.
  local privileges='SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, TRIGGER'
  local account grants
  for svc in "${services[@]}"; do
    account="$(sql_string "${db_user[$svc]}")@$(sql_string "$user_host")"
    run_sql "creating database ${db_name[$svc]} and user ${db_user[$svc]}" >/dev/null <<SQL
CREATE DATABASE IF NOT EXISTS \`${db_name[$svc]}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $account IDENTIFIED BY $(sql_string "${db_password[$svc]}");
ALTER USER $account IDENTIFIED BY $(sql_string "${db_password[$svc]}");
GRANT $privileges ON \`${db_name[$svc]}\`.* TO $account;
SQL
    grants=$(run_sql "reading the grants of ${db_user[$svc]}" <<<"SHOW GRANTS FOR $account;")
    if grep -E ' ON \*\.\* ' <<<"$grants" | grep -vqE '^GRANT USAGE ON \*\.\* '; then
      die "user ${db_user[$svc]}@$user_host has global privileges, which bypass read_only on the replica: $(grep -E ' ON \*\.\* ' <<<"$grants" | sed -E 's/ IDENTIFIED BY .*//') — REVOKE them (this script grants only ON \`${db_name[$svc]}\`.*)"
    fi
    note "database ${db_name[$svc]}: user ${db_user[$svc]}@$user_host, privileges on ${db_name[$svc]}.* only"
  done

  # --- replication user ------------------------------------------------------------------------
  if [[ $with_replication == 0 ]]; then note "no replication user (CREATE_REPLICATION_USER=0)"; note "done"; return 0; fi
  account="$(sql_string "$repl_user")@$(sql_string "$user_host")"
  run_sql "creating replication user $repl_user" >/dev/null <<SQL
CREATE USER IF NOT EXISTS $account IDENTIFIED BY $(sql_string "$repl_password");
ALTER USER $account IDENTIFIED BY $(sql_string "$repl_password");
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO $account;
SQL
  note "replication user $repl_user@$user_host: REPLICATION SLAVE, REPLICATION CLIENT"
  note "done"
)

case "${1:-}" in
  -h | --help) sed -n '2,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) bookstore_primary_init ;;
esac
