#!/usr/bin/env bash
# One database and one role per service, each role owning its own database and unable to
# connect to another's. The postgres image runs this from /docker-entrypoint-initdb.d/ on the
# first start only (an empty data volume); passwords come from <SERVICE>_DB_PASSWORD.
#
# No `set -u`: if the file lost its executable bit the entrypoint sources it, and the option
# would leak into the entrypoint itself.
set -eo pipefail

create_service_database() {
    local name="$1" password="$2"
    # psql variables (:"name" an identifier, :'password' a literal) quote the values safely.
    psql --no-psqlrc -v ON_ERROR_STOP=1 \
        --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
        --set=name="$name" --set=password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
-- Every role may connect to every database by default (through PUBLIC): only the owner may here.
REVOKE CONNECT, TEMPORARY ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
SQL
    echo "postgres-init: database and role \"$name\" created"
}

create_service_database auth "${AUTH_DB_PASSWORD:-auth}"
create_service_database catalog "${CATALOG_DB_PASSWORD:-catalog}"
create_service_database orders "${ORDERS_DB_PASSWORD:-orders}"
create_service_database notify "${NOTIFY_DB_PASSWORD:-notify}"
