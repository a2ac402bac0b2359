#!/bin/bash
# Runs once, when the postgres container initialises an empty data volume
# (docker-entrypoint-initdb.d). Creates one login role per consumer:
#   temporal  - may create its own databases (temporal, temporal_visibility);
#               the temporal auto-setup container creates and migrates them.
#   ringback  - owns the application database "ringback" and nothing else.
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"
: "${RINGBACK_DB_PASSWORD:?RINGBACK_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v temporal_pw="$TEMPORAL_DB_PASSWORD" \
	-v ringback_pw="$RINGBACK_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
CREATE ROLE ringback LOGIN PASSWORD :'ringback_pw';
CREATE DATABASE ringback OWNER ringback;
REVOKE ALL ON DATABASE ringback FROM PUBLIC;
SQL
