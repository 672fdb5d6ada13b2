"""Tooling that runs kiwi-shop locally: infrastructure servers as plain processes, migrations, topics,
service processes. Used by ``make run``, by the test runner and by the benchmarks. Never by a service."""
