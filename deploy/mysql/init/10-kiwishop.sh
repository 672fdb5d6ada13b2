#!/bin/bash
# Runs once, when the MySQL container starts on an empty data volume (docker-entrypoint-initdb.d).
# Creates one schema per service that has a SQL database, and least-privilege users:
#   kiwi_migrate     DDL + DML on every kiwi-shop schema (used only by the one-shot "migrate" job)
#   kiwi_<service>   SELECT/INSERT/UPDATE/DELETE on its own schema only (kiwi_console also SELECT on order's and
#                    wallet's: reconcile)
# Every one of them logs in over TLS only (REQUIRE SSL, set again on a re-run for users made before).
# Passwords come from the container's environment (deploy/.env); use letters, digits and _ only.
# Against a managed MySQL instead, with a mysql client:  MYSQL_HOST=<host> MYSQL_ADMIN_USER=<admin>
#   MYSQL_ROOT_PASSWORD=<its password> (plus the DB_* passwords) bash deploy/mysql/init/10-kiwishop.sh
# The subshell keeps `set -euo pipefail` local: the entrypoint sources this file when it is not executable.
(
  set -euo pipefail
  statements() {
    echo "CREATE USER IF NOT EXISTS 'kiwi_migrate'@'%' IDENTIFIED BY '${DB_MIGRATE_PASSWORD:?}' REQUIRE SSL;"
    echo "ALTER USER 'kiwi_migrate'@'%' REQUIRE SSL;"
    for service in catalog catalog_like catalog_review console identity order seller wallet; do
      password_var="DB_PASSWORD_${service^^}"
      password="${!password_var:?$password_var is not set}"
      schema="payment_msa_v2_${service}"
      echo "CREATE DATABASE IF NOT EXISTS \`${schema}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
      echo "CREATE USER IF NOT EXISTS 'kiwi_${service}'@'%' IDENTIFIED BY '${password}' REQUIRE SSL;"
      echo "ALTER USER 'kiwi_${service}'@'%' REQUIRE SSL;"
      echo "GRANT SELECT, INSERT, UPDATE, DELETE ON \`${schema}\`.* TO 'kiwi_${service}'@'%';"
      echo "GRANT CREATE, ALTER, DROP, INDEX, REFERENCES, SELECT, INSERT, UPDATE, DELETE" \
           "ON \`${schema}\`.* TO 'kiwi_migrate'@'%';"
    done
    # The console's reconcile reads order's and wallet's books, and changes nothing there.
    echo "GRANT SELECT ON \`payment_msa_v2_order\`.* TO 'kiwi_console'@'%';"
    echo "GRANT SELECT ON \`payment_msa_v2_wallet\`.* TO 'kiwi_console'@'%';"
  }
  sql=$(statements)  # all or nothing: a missing password stops before any statement runs
  if [ -n "${MYSQL_HOST:-}" ]; then server=(-h "$MYSQL_HOST" -P "${MYSQL_PORT:-3306}"); else server=(--protocol=socket); fi
  MYSQL_PWD="${MYSQL_ROOT_PASSWORD:?}" mysql "${server[@]}" -u"${MYSQL_ADMIN_USER:-root}" <<<"$sql"
)
