"""Wire contracts shared by services: topic names (``topics``), event types with their payload shapes
(``events``, standard library only, documented in docs/events.md), and catalog's product lookup
(``catalog``); services share nothing else."""
