#!/usr/bin/env bash
# dsenv/postgres entrypoint: the official postgres image's environment contract
# (POSTGRES_USER, POSTGRES_PASSWORD[_FILE], POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD,
# POSTGRES_INITDB_ARGS, PGDATA, /docker-entrypoint-initdb.d) with a fast first start:
# an empty $PGDATA gets a copy of the data directory initialised at image build time.
# It runs few programs: on a loaded machine every exec is a wait for a CPU.
set -Eeuo pipefail

template=/var/lib/postgresql/template.tar

log() { printf 'dsenv-postgres: %s\n' "$*"; }
die() {
	printf 'dsenv-postgres: error: %s\n' "$*" >&2
	exit 1
}

# file_env VAR [default]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
	local var=$1 file_var="${1}_FILE" def=${2:-} val
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set; use one"
	fi
	val=$def
	if [ -n "${!var:-}" ]; then
		val=${!var}
	elif [ -n "${!file_var:-}" ]; then
		[ -r "${!file_var}" ] || die "$file_var names ${!file_var}, which is not readable"
		val=$(<"${!file_var}")
	fi
	export "$var=$val"
	unset "$file_var"
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	export PGDATA=${PGDATA:-/var/lib/postgresql/data}
}

# want_help: arguments that only print something (postgres --version, -C name, ...).
want_help() {
	local arg
	for arg; do
		case "$arg" in
		-'?' | --help | --describe-config | -V | --version | -C) return 0 ;;
		esac
	done
	return 1
}

verify_minimum_env() {
	case "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" in
	scram-sha-256 | md5 | password | trust | reject) ;;
	*) die "POSTGRES_HOST_AUTH_METHOD=$POSTGRES_HOST_AUTH_METHOD: want scram-sha-256, md5, password, trust or reject" ;;
	esac
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		die "the database is uninitialised and no superuser password is set. Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value, or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without a password (not recommended)."
	fi
}

# sql_ident / sql_literal quote a value for SQL text.
sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# The spare database in the template (see build-template.sh).
initial_db=dsenv_initial_db

# init_pgdata fills the empty $PGDATA: a copy of the template, or a real initdb when
# POSTGRES_INITDB_ARGS asks for something the template does not have. It sets from_template.
init_pgdata() {
	if [ -z "$POSTGRES_INITDB_ARGS" ] && [ -s "$template" ]; then
		tar -C "$PGDATA" -xpf "$template"
		from_template=1
		return
	fi
	from_template=
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words by contract
	initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 --no-instructions \
		$POSTGRES_INITDB_ARGS >/dev/null
	tar -C "$PGDATA" -xpf "$template" ./pg_hba.conf
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
}

# configure_roles sets the superuser, its password and the database in single-user mode
# (no socket, no port: nobody can connect before this is done). The SQL goes through
# stdin, so the password never appears in a process's arguments. With -j a statement
# ends at a semicolon followed by an empty line.
configure_roles() {
	local sql user db out
	user=$(sql_ident "$POSTGRES_USER")
	db=$(sql_ident "$POSTGRES_DB")
	if [ "$POSTGRES_USER" = postgres ]; then
		sql="ALTER ROLE postgres WITH LOGIN"
	else
		sql="CREATE ROLE $user WITH SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN"
	fi
	if [ -n "$POSTGRES_PASSWORD" ]; then
		sql+=" PASSWORD $(sql_literal "$POSTGRES_PASSWORD")"
	fi
	sql+=$';\n\n'
	if [ -n "$from_template" ]; then
		if [ "$POSTGRES_DB" = postgres ]; then
			sql+="DROP DATABASE $initial_db;"$'\n\n'
		else
			if [ "$POSTGRES_DB" != "$initial_db" ]; then
				sql+="ALTER DATABASE $initial_db RENAME TO $db;"$'\n\n'
			fi
			sql+="ALTER DATABASE $db OWNER TO $user;"$'\n\n'
		fi
	elif [ "$POSTGRES_DB" != postgres ]; then
		sql+="CREATE DATABASE $db OWNER $user;"$'\n\n'
	fi
	if ! out=$(printf '%s' "$sql" | postgres --single -j -D "$PGDATA" \
		-c log_min_messages=error postgres 2>&1 >/dev/null); then
		die "setting up role $POSTGRES_USER and database $POSTGRES_DB failed: $out"
	fi
	# Single-user mode goes on after a failed statement; its log says so.
	if [[ "$out" =~ (ERROR|FATAL|PANIC):\ .* ]]; then
		die "setting up role $POSTGRES_USER and database $POSTGRES_DB failed: ${BASH_REMATCH[0]}"
	fi
}

configure_hba() {
	local method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	if [ "$method" != scram-sha-256 ]; then
		sed -i "s/^host\( \+all \+all \+all \+\).*/host\1$method/" "$PGDATA/pg_hba.conf"
	fi
	if [ "$method" = trust ]; then
		log "warning: POSTGRES_HOST_AUTH_METHOD=trust: anyone who reaches the port connects without a password"
	fi
}

# run_initdb_scripts runs /docker-entrypoint-initdb.d/* against a server that listens on the
# local socket only; it starts one only when there are scripts.
run_initdb_scripts() {
	local f
	shopt -s nullglob
	local files=(/docker-entrypoint-initdb.d/*)
	shopt -u nullglob
	[ "${#files[@]}" -gt 0 ] || return 0

	export PGUSER=$POSTGRES_USER PGDATABASE=$POSTGRES_DB PGHOST=/var/run/postgresql
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w -s start >/dev/null
	local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet)
	for f in "${files[@]}"; do
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				log "running $f"
				"$f"
			else
				log "sourcing $f"
				# shellcheck disable=SC1090
				. "$f"
			fi
			;;
		*.sql) log "running $f"; "${psql[@]}" -f "$f" ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" ;;
		*) log "ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w -s stop
	unset PGUSER PGDATABASE PGHOST
}

# undo_failed_init empties $PGDATA when the first start fails half way, so that the next
# start initialises again instead of running a cluster without its role or database.
undo_failed_init() {
	local rc=$?
	[ "$rc" -ne 0 ] || return 0
	if [ -s "$PGDATA/postmaster.pid" ]; then
		pg_ctl -D "$PGDATA" -m immediate -w -s stop || :
	fi
	rm -rf "${PGDATA:?}"/*
	printf 'dsenv-postgres: error: first start failed; %s emptied so that the next start initialises again\n' "$PGDATA" >&2
}

main() {
	if [ $# -eq 0 ] || [ "${1:0:1}" = - ]; then
		set -- postgres "$@"
	fi
	if [ "$1" != postgres ] || want_help "$@"; then
		exec "$@"
	fi

	setup_env
	if [ "$EUID" = 0 ]; then
		# A fresh tmpfs or volume is owned by root: hand it to postgres, then drop root.
		install -d -o postgres -g postgres -m 700 "$PGDATA" ||
			chown postgres:postgres "$PGDATA" # e.g. a bind mount that refuses chmod
		[ -d /var/run/postgresql ] || install -d -o postgres -g postgres -m 3777 /var/run/postgresql
		exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
	fi

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		verify_minimum_env
		[ -w "$PGDATA" ] || die "$PGDATA is not writable by uid $EUID"
		local start=$EPOCHREALTIME
		trap undo_failed_init EXIT
		init_pgdata
		configure_roles
		configure_hba
		run_initdb_scripts
		trap - EXIT
		local us=$((${EPOCHREALTIME/./} - ${start/./}))
		log "initialised $PGDATA for user $POSTGRES_USER, database $POSTGRES_DB in $((us / 1000)) ms"
	fi
	unset POSTGRES_PASSWORD
	exec "$@"
}

main "$@"
