"""Wire contracts shared by services: topic names and event types. Payload shapes are documented in
docs/events.md; services share nothing else."""
