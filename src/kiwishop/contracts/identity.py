"""The identity service's login contract, shared with the services that log people in through it (order's
login page): the longest login id and password ``POST /api/auth/token`` accepts."""

from __future__ import annotations

LOGIN_ID_MAX_LENGTH = 64
PASSWORD_MAX_LENGTH = 128
