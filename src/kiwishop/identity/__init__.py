"""identity (8089): accounts (members, sellers, ops), password login, and the short-lived bearer tokens every
service verifies against the public keys it publishes (``/.well-known/jwks.json``; ``platform.identity``)."""
