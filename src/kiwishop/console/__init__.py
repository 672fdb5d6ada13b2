"""The ops console (port 8088, ops only): one place that shows what is stuck — payments in doubt and quarantined,
outbox backlogs, consumer lag, dead letters, seller registrations, unsettled orders, reconcile — and lets ops act
on it, each action recorded in its audit table. It reads the other services over HTTP with the caller's own token
and Kafka with its admin client; only reconcile (``kiwishop.ops.reconcile``) reads order's and wallet's schemas."""
