"""``make bench``: measured numbers, printed as tables and written to ``results/`` as JSON.

Scenarios run against private servers started for the run (never the `make run` stack), so a result
does not depend on what else is running. Speed targets live here, never in timed tests.
"""
