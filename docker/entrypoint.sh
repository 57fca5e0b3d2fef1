#!/bin/sh
# Start of every Vigie container: a writable data folder for the default SQLite database,
# migrations applied (unless VIGIE_MIGRATE_ON_START=0), then the command (vigie web...).
set -eu

data_dir="${VIGIE_DATA_DIR:-/data}"
: "${VIGIE_DATABASE_URL:=sqlite:///${data_dir}/vigie.db}"
export VIGIE_DATABASE_URL

case "$VIGIE_DATABASE_URL" in
  sqlite:*)
    db_path="${VIGIE_DATABASE_URL#sqlite:///}"
    db_dir="$(dirname "$db_path")"
    if ! mkdir -p "$db_dir" 2>/dev/null || ! [ -w "$db_dir" ]; then
      echo "vigie: cannot write the SQLite database in $db_dir as user $(id -u):$(id -g)." >&2
      echo "vigie: mount a writable volume there (docker run -v vigie-data:$db_dir ...)" \
           "or set VIGIE_DATABASE_URL to PostgreSQL." >&2
      exit 1
    fi
    ;;
esac

if [ "${VIGIE_MIGRATE_ON_START:-1}" = "1" ]; then
  # 3: a newer release migrated the database (rolling deploy, rollback). The command still
  # runs and says so itself: vigie web, worker and run stop with the same line, vigie
  # doctor and vigie db current report it. Any other failure stops the start here.
  status=0
  vigie db upgrade || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    exit "$status"
  fi
fi

exec "$@"
