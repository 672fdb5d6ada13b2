"""Bearer tokens minted straight from a signing key the developer holds (the local stack's
``.data/identity/signing-key.pem``, a fleet's or the test runner's key): for the drills, the benchmarks and the
tests, which act as thousands of members that have no seed account. The services cannot tell them from the
identity service's own tokens — the same claims, signed by the key the identity service publishes. Never for
production: there the only signer is the identity service and its key never leaves it."""

from __future__ import annotations

import itertools
from functools import cache

from kiwishop.identity.domain import Account, AccountRole
from kiwishop.identity.keys import signing_keys
from kiwishop.identity.tokens import TokenIssuer

_accounts = itertools.count(1_000_000)  # account numbers no seed account has


class TokenMint:
    def __init__(self, private_pem: str, *, ttl_s: int = 86_400) -> None:
        self.keys = signing_keys(private_pem)
        self._issuer = TokenIssuer(self.keys, ttl_s=ttl_s)

    def _issue(self, role: AccountRole, member_no: int | None = None, seller_no: int | None = None) -> str:
        account = Account(next(_accounts), f"minted-{role}", "", role, member_no, seller_no)
        return self._issuer.issue(account).access_token

    @cache  # noqa: B019 (a mint lives as long as the run; one token per identity is plenty)
    def member(self, member_no: int) -> str:
        return self._issue(AccountRole.MEMBER, member_no=member_no)

    @cache  # noqa: B019
    def seller(self, seller_no: int) -> str:
        return self._issue(AccountRole.SELLER, seller_no=seller_no)

    @cache  # noqa: B019
    def ops(self) -> str:
        return self._issue(AccountRole.OPS)

    def as_member(self, member_no: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.member(member_no)}"}

    def as_seller(self, seller_no: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seller(seller_no)}"}

    def as_ops(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ops()}"}
