#!/bin/bash
# The kafka-setup job (one-shot, re-runnable): a SCRAM-SHA-512 user per kiwi-shop service and the ACLs that let
# it do its work and nothing else. The brokers' StandardAuthorizer denies whatever no ACL allows.
#   writes  the topics whose events it owns (src/kiwishop/contracts/events.py), and the dead-letter topics of
#           the topics it consumes (its consumers park records there)
#   reads   the topics it consumes, with its consumer groups
# READ and WRITE include DESCRIBE (the services' start-up checks that their topics exist). Only kiwi-migrate may
# create topics; nobody but admin may delete or reconfigure anything. deploy/check_settings.py compares the
# `grant` lines below with what each service's code produces and consumes: change them together.
# Passwords come from the KAFKA_PASSWORD_* variables (deploy/.env); running again sets them again (rotation).
# Adding is idempotent; a permission taken out of this file stays on the brokers until removed by hand:
#   bash admin.sh kafka-acls.sh --bootstrap-server kafka-1:9094 --remove --force --allow-principal User:<user> ...
set -euo pipefail
here=$(dirname "$0")
bootstrap=${ADMIN_BOOTSTRAP:-kafka-1:9094,kafka-2:9094,kafka-3:9094}

admin() { bash "$here/admin.sh" "$@"; }

user() {  # user <name> <password variable>
  local password="${!2:?$2 is not set}"
  admin kafka-configs.sh --bootstrap-server "$bootstrap" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]"
}

acl() {  # acl <user> <kafka-acls.sh arguments: operations and resources>
  local name=$1
  shift
  admin kafka-acls.sh --bootstrap-server "$bootstrap" --add --allow-principal "User:$name" "$@" >/dev/null
}

grant() {  # grant <user> <password variable> "<topics written>" "<topics read>" "<groups; prefix* = prefixed>"
  local name=$1 items=() item writing=() reading=() prefixes=()
  read -r -a items <<<"$3"
  for item in "${items[@]}"; do writing+=(--topic "$item"); done
  read -r -a items <<<"$4"
  for item in "${items[@]}"; do reading+=(--topic "$item"); done
  read -r -a items <<<"$5"
  for item in "${items[@]}"; do
    if [[ $item == *"*" ]]; then prefixes+=(--group "${item%"*"}"); else reading+=(--group "$item"); fi
  done
  user "$name" "$2"
  if [ ${#writing[@]} -gt 0 ]; then acl "$name" --operation Write "${writing[@]}"; fi
  if [ ${#reading[@]} -gt 0 ]; then acl "$name" --operation Read "${reading[@]}"; fi
  if [ ${#prefixes[@]} -gt 0 ]; then acl "$name" --operation Read --resource-pattern-type prefixed "${prefixes[@]}"; fi
  echo "kafka-setup: $name writes [$3] reads [$4] groups [$5]"
}

#     user                 password variable              writes                                reads                    groups
grant kiwi-catalog         KAFKA_PASSWORD_CATALOG         "kiwi-shop-seller.DLT"                "kiwi-shop-seller"       "catalog-seller"
grant kiwi-catalog-like    KAFKA_PASSWORD_CATALOG_LIKE    "kiwi-shop-product-like"              ""                       ""
grant kiwi-catalog-review  KAFKA_PASSWORD_CATALOG_REVIEW  "kiwi-shop-product-review"            ""                       ""
grant kiwi-hot-catalog     KAFKA_PASSWORD_HOT_CATALOG     "kiwi-shop-product-like.DLT kiwi-shop-product-review.DLT kiwi-shop-payment.DLT" "kiwi-shop-product-like kiwi-shop-product-review kiwi-shop-payment" "hot-catalog-service"
grant kiwi-wallet          KAFKA_PASSWORD_WALLET          "kiwi-shop-wallet kiwi-shop-seller.DLT kiwi-shop-payment.DLT" "kiwi-shop-seller kiwi-shop-payment" "wallet-creation wallet-settlement"
grant kiwi-seller          KAFKA_PASSWORD_SELLER          "kiwi-shop-seller kiwi-shop-wallet.DLT" "kiwi-shop-wallet"     "seller-registration"
grant kiwi-order           KAFKA_PASSWORD_ORDER           "kiwi-shop-payment kiwi-shop-wallet.DLT" "kiwi-shop-wallet"    "order-wallet-result"
grant kiwi-order-query     KAFKA_PASSWORD_ORDER_QUERY     "kiwi-shop-payment.DLT"               "kiwi-shop-payment"      "order-query"
# Operators' user for `kiwishop dlt list|show|redrive` and `kiwishop reconcile`: reads the dead letters and
# re-publishes them to the topic they came from (the one writer of kiwi-shop-payment besides order: a redrive
# re-sends order's own records, unchanged).
grant kiwi-ops             KAFKA_PASSWORD_OPS             "kiwi-shop-payment kiwi-shop-product-like kiwi-shop-product-review kiwi-shop-wallet kiwi-shop-seller" "kiwi-shop-payment.DLT kiwi-shop-product-like.DLT kiwi-shop-product-review.DLT kiwi-shop-wallet.DLT kiwi-shop-seller.DLT" "kiwishop-dlt-*"

# The ops console (8088): the same as the operators' user, and it reads every group's committed offsets (consumer
# lag on its overview: Describe on the groups, Read on their topics for the end offsets).
grant kiwi-console         KAFKA_PASSWORD_CONSOLE         "kiwi-shop-payment kiwi-shop-product-like kiwi-shop-product-review kiwi-shop-wallet kiwi-shop-seller" "kiwi-shop-payment kiwi-shop-product-like kiwi-shop-product-review kiwi-shop-wallet kiwi-shop-seller kiwi-shop-payment.DLT kiwi-shop-product-like.DLT kiwi-shop-product-review.DLT kiwi-shop-wallet.DLT kiwi-shop-seller.DLT" "kiwishop-dlt-*"
acl kiwi-console --operation Describe --group wallet-settlement --group wallet-creation --group catalog-seller \
  --group hot-catalog-service --group order-query --group order-wallet-result --group seller-registration

# The migrate job's `kiwishop topics`: creates the topics (and their DLTs), nothing else.
user kiwi-migrate KAFKA_PASSWORD_MIGRATE
acl kiwi-migrate --operation Create --operation Describe --resource-pattern-type prefixed --topic kiwi-shop-
echo "kafka-setup: kiwi-migrate: creates kiwi-shop-* topics"

# kafka-ui (profile "ops"): sees the cluster, every topic and its records, every group; changes nothing.
user kiwi-ui KAFKA_PASSWORD_UI
acl kiwi-ui --operation Describe --operation DescribeConfigs --cluster
acl kiwi-ui --operation Read --operation DescribeConfigs --topic '*'
acl kiwi-ui --operation Describe --group '*'
echo "kafka-setup: kiwi-ui: reads everything"

echo "kafka-setup: done"
