#!/usr/bin/env bash
# Runs once at image build: prepares directories and an initialised data directory, kept as
# one tar file that docker-entrypoint.sh unpacks into an empty $PGDATA on first start. One
# file, not ~1300: with a FUSE storage driver every file opened in an image layer costs a
# round trip through the driver, and a tar unpacks about three times faster than cp -a.
set -Eeuo pipefail

archive=/var/lib/postgresql/template.tar
template=$(mktemp -d)

mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql "$PGDATA"
chown postgres:postgres /var/run/postgresql "$PGDATA"
chmod 3777 /var/run/postgresql
chmod 700 "$PGDATA"

chown postgres:postgres "$template"
chmod 700 "$template"
# 1 MB WAL segments: the template carries one segment, copied at every first start.
setpriv --reuid=postgres --regid=postgres --init-groups \
	initdb --pgdata="$template" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
	--auth-local=trust --auth-host=scram-sha-256 --wal-segsize=1 --no-instructions >/dev/null

# Trust on the local socket (what init scripts and pg_isready use), a password over TCP.
# docker-entrypoint.sh rewrites the host line when POSTGRES_HOST_AUTH_METHOD is set.
cat >"$template/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all       all            trust
host    all       all   all      scram-sha-256
HBA
printf "\nlisten_addresses = '*'\n" >>"$template/postgresql.conf"
chown postgres:postgres "$template/pg_hba.conf"

# A spare database that the first start renames to $POSTGRES_DB: a rename is a catalog
# update, where CREATE DATABASE would copy template1 and write it all to the WAL.
printf 'CREATE DATABASE dsenv_initial_db;\n\n' |
	setpriv --reuid=postgres --regid=postgres --init-groups \
		postgres --single -j -D "$template" -c log_min_messages=error postgres >/dev/null

# After that clean shutdown only the segment with the checkpoint is needed; the others are
# recycled spares that every first start would copy for nothing.
redo=$(pg_controldata "$template" | awk -F': *' '/REDO WAL file/ {print $2}')
[ -n "$redo" ] && [ -f "$template/pg_wal/$redo" ]
find "$template/pg_wal" -maxdepth 1 -type f -name '0*' ! -name "$redo" -delete

tar -C "$template" -cf "$archive" .
chown postgres:postgres "$archive"
rm -rf "$template"
