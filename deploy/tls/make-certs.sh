#!/usr/bin/env bash
# Makes the deployment's TLS files in deploy/tls (git-ignored), once, with openssl:
#   ca.pem, ca-key.pem           a private certificate authority (10 years); keep ca-key.pem offline after this
#   mysql-cert.pem, mysql-key.pem  MySQL's server certificate for the name "mysql" (its Compose host name), signed
#                                by the CA (825 days); the services verify it and its name (KIWI_DB_SSL_CA)
# Compose mounts ca.pem into every kiwishop container and the three files MySQL needs into mysql, as secrets.
# Renewing the server certificate: RENEW=1 bash deploy/tls/make-certs.sh (keeps the CA), then restart mysql.
# Another host name (a managed or separate MySQL): MYSQL_TLS_NAME=db.example.internal bash deploy/tls/make-certs.sh
set -euo pipefail
cd "$(dirname "$0")"
name=${MYSQL_TLS_NAME:-mysql}
umask 077

if [ -e ca.pem ] && [ -z "${RENEW:-}" ]; then
  echo "deploy/tls: ca.pem exists; RENEW=1 makes a new server certificate with it, or delete *.pem to start over" >&2
  exit 1
fi
if [ ! -e ca.pem ]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -days 3650 -sha256 -subj "/CN=kiwi-shop CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca-key.pem -out ca.pem 2>/dev/null
fi

request=$(mktemp)
extensions=$(mktemp)
trap 'rm -f "$request" "$extensions"' EXIT
openssl req -new -newkey rsa:3072 -nodes -sha256 -subj "/CN=$name" -keyout mysql-key.pem -out "$request" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$name" > "$extensions"
openssl x509 -req -in "$request" -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 16)" \
  -days 825 -sha256 -extfile "$extensions" -out mysql-cert.pem 2>/dev/null

# The certificates are public; the containers read them as other users (kiwishop 10001, mysql 999). MySQL's key
# stays private: its container copies it as root to a file of its own (compose.yaml, service mysql).
chmod 644 ca.pem mysql-cert.pem
chmod 600 ca-key.pem mysql-key.pem
openssl verify -CAfile ca.pem mysql-cert.pem
echo "deploy/tls: made mysql-cert.pem for \"$name\", valid until $(openssl x509 -noout -enddate -in mysql-cert.pem | cut -d= -f2)"
