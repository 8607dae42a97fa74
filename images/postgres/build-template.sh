#!/usr/bin/env bash
# Runs once at image build: prepares directories and the initialised data directory template
# that docker-entrypoint.sh copies into an empty $PGDATA on first start.
set -Eeuo pipefail

template=/var/lib/postgresql/template

mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql "$PGDATA"
chown postgres:postgres /var/run/postgresql "$PGDATA"
chmod 3777 /var/run/postgresql
chmod 700 "$PGDATA"

install -d -o postgres -g postgres -m 700 "$template"
setpriv --reuid=postgres --regid=postgres --init-groups \
	initdb --pgdata="$template" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
	--auth-local=trust --auth-host=scram-sha-256 --no-instructions >/dev/null

# Trust on the local socket (what init scripts and pg_isready use), a password over TCP.
# docker-entrypoint.sh rewrites the host line when POSTGRES_HOST_AUTH_METHOD is set.
cat >"$template/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all       all            trust
host    all       all   all      scram-sha-256
HBA
printf "\nlisten_addresses = '*'\n" >>"$template/postgresql.conf"
chown postgres:postgres "$template/pg_hba.conf"
