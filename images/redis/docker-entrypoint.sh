#!/usr/bin/env bash
# dsenv/redis entrypoint. Writes the server's settings to a config file readable only by
# redis (so a password never appears in the process list), then runs redis-server as redis:
#   REDIS_PASSWORD_FILE or REDIS_PASSWORD   requirepass (a --requirepass argument also works)
#   REDIS_CONFIG_FILE                       a config file included after dsenv's defaults
# Defaults: bind 0.0.0.0, port 6379, protected mode off, no persistence (save "",
# appendonly no: turn it on with `appendonly yes` in REDIS_CONFIG_FILE or --appendonly yes).
set -Eeuo pipefail

die() {
	printf 'dsenv-redis: error: %s\n' "$*" >&2
	exit 1
}

# Arguments that start with - or name a .conf file are redis-server's.
if [ $# -eq 0 ] || [ "${1:0:1}" = - ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
if [ "$1" != redis-server ]; then
	exec "$@"
fi
for arg; do
	case "$arg" in
	-v | --version | -h | --help | --test-memory | --check-system) exec "$@" ;;
	esac
done
shift

if [ -n "${REDIS_PASSWORD:-}" ] && [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	die "both REDIS_PASSWORD and REDIS_PASSWORD_FILE are set; use one"
fi
password=${REDIS_PASSWORD:-}
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	[ -r "$REDIS_PASSWORD_FILE" ] || die "REDIS_PASSWORD_FILE names $REDIS_PASSWORD_FILE, which is not readable"
	password=$(<"$REDIS_PASSWORD_FILE")
fi
if [ -n "${REDIS_CONFIG_FILE:-}" ] && [ ! -r "$REDIS_CONFIG_FILE" ]; then
	die "REDIS_CONFIG_FILE names $REDIS_CONFIG_FILE, which is not readable"
fi
unset REDIS_PASSWORD REDIS_PASSWORD_FILE

# quote: a double-quoted string for redis.conf.
quote() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

if [ "$EUID" = 0 ]; then
	rundir=/run/dsenv-redis
	install -d -o redis -g redis -m 700 "$rundir"
	# A bind-mounted or fresh /data may belong to root: persistence needs it writable.
	find /data \! -user redis -exec chown redis:redis '{}' +
else
	rundir=$(mktemp -d)
fi
conf=$rundir/redis.conf
(
	umask 077
	{
		echo 'bind 0.0.0.0'
		echo 'port 6379'
		echo 'protected-mode no'
		echo 'daemonize no'
		echo 'logfile ""'
		echo 'dir /data'
		echo 'save ""'
		echo 'appendonly no'
		if [ -n "$password" ]; then
			echo "requirepass $(quote "$password")"
		fi
		# A user's .conf argument, then REDIS_CONFIG_FILE: later settings win.
		if [ $# -gt 0 ] && [ "${1%.conf}" != "$1" ]; then
			echo "include $(quote "$1")"
		fi
		if [ -n "${REDIS_CONFIG_FILE:-}" ]; then
			echo "include $(quote "$REDIS_CONFIG_FILE")"
		fi
	} >"$conf"
)
if [ $# -gt 0 ] && [ "${1%.conf}" != "$1" ]; then
	shift
fi
unset password

if [ "$EUID" = 0 ]; then
	chown redis:redis "$conf"
	exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$conf" "$@"
fi
exec redis-server "$conf" "$@"
