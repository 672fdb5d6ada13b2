"""Identity's use cases: a login (password → access token) and creating an account.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile). Hashing and
verifying take tens of milliseconds of CPU, so they run in a worker thread, off the event loop. A login for an
unknown login id verifies the password against a fixed dummy hash all the same, so it takes as long as a wrong
password and both answer the same 401 (IDN0001).
"""

from __future__ import annotations

import asyncio
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kiwishop.identity import queries
from kiwishop.identity.domain import Account, AccountRole, IdentityError, check_role_numbers
from kiwishop.identity.tables import accounts
from kiwishop.identity.tokens import IssuedToken, TokenIssuer
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake

log = logging.getLogger("kiwishop.identity")
_hasher = PasswordHasher()
# The hash of a password nobody has: what a login for an unknown login id is checked against.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$2Pc+Uog733jge3LvKTJmTA$rLw0pf0KuwJS9HLy8bYv7cT2od+uZMFKr9RFLXZPFEM"


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def issue_token(db: Database, issuer: TokenIssuer, *, login_id: str, password: str) -> IssuedToken:
    """An access token for the account, or IDN0001 (401) — the same for an unknown login id and a wrong password."""
    account = await queries.find_account(db, login_id)
    matched = await asyncio.to_thread(_matches, account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not matched:
        log.info("login refused for %r", login_id[:64])
        raise AppError(IdentityError.BAD_CREDENTIALS)
    return issuer.issue(account)


async def create_account(
    db: Database,
    ids: Snowflake,
    *,
    login_id: str,
    password: str,
    role: AccountRole,
    member_no: int | None = None,
    seller_no: int | None = None,
) -> Account:
    """A new account (IDN0002, 409, for a login id already taken)."""
    check_role_numbers(role, member_no, seller_no)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    account = Account(ids.next_id(), login_id, password_hash, role, member_no, seller_no)
    async with db.uow() as uow:
        try:
            await uow.conn.execute(
                insert(accounts).values(
                    account_no=account.account_no,
                    login_id=login_id,
                    password_hash=password_hash,
                    role=role,
                    member_no=member_no,
                    seller_no=seller_no,
                    created_at=utcnow(),
                )
            )
        except IntegrityError as exc:
            raise AppError(IdentityError.DUPLICATE_LOGIN_ID) from exc
        await uow.commit()
    return account
