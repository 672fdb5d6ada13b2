"""Operational tools that look across services (reconciliation). Tooling, like devstack: no service imports it."""
