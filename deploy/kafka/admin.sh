#!/bin/bash
# Runs a Kafka command-line tool as "admin", the brokers' one super user, on the BROKER listener (SASL PLAIN, 9094):
#   bash admin.sh kafka-acls.sh --bootstrap-server kafka-1:9094 --list
# Used by the brokers' health check and the kafka-setup job, inside the apache/kafka image. The password comes
# from BROKER_ADMIN_PASSWORD (KAFKA_ADMIN_PASSWORD in deploy/.env) and goes only into a temporary client config.
set -euo pipefail
tool=${1:?usage: admin.sh <kafka tool>.sh [arguments]}
shift
config=$(mktemp)
trap 'rm -f "$config"' EXIT
chmod 600 "$config"
{
  echo "security.protocol=SASL_PLAINTEXT"
  echo "sasl.mechanism=PLAIN"
  echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${BROKER_ADMIN_PASSWORD:?BROKER_ADMIN_PASSWORD is not set}\";"
} > "$config"
"/opt/kafka/bin/$tool" --command-config "$config" "$@"
