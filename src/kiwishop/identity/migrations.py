from __future__ import annotations

from kiwishop.platform.migrations import Migration

# One row per login. role decides which number is set: member → member_no, seller → seller_no, ops → neither.
ACCOUNTS = """
CREATE TABLE IF NOT EXISTS accounts (
    account_no     BIGINT                          NOT NULL PRIMARY KEY,
    login_id       VARCHAR(64)                     NOT NULL,
    password_hash  VARCHAR(255)                    NOT NULL,
    role           ENUM('member','seller','ops')   NOT NULL,
    member_no      BIGINT                          NULL,
    seller_no      BIGINT                          NULL,
    created_at     DATETIME(3)                     NOT NULL,
    UNIQUE KEY uk_accounts_login_id (login_id),
    KEY ix_accounts_member_no (member_no),
    KEY ix_accounts_seller_no (seller_no)
) ENGINE=InnoDB
"""

MIGRATIONS = (Migration("0001_accounts", (ACCOUNTS,)),)

# LOCAL ONLY (the local stack and `kiwishop migrate --seed` demos; README "identity"): members 1-3, seller 1 and
# ops, each with the password "<login id>-password", hashed with argon2id. Never seed these in production.
_ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$"
_SEED_ACCOUNTS = (  # account_no, login_id, password hash, role, member_no, seller_no
    (1, "member1", "QkGdyf4e9zX/Aivgaqc6Qw$PDp5opd6oxeINDaI421IFrKI2ydt7P8N1onc0wO2pIM", "member", "1", "NULL"),
    (2, "member2", "cecmnddU1oVH1gIqGDnsAQ$ar58OplLiGcn1wXqzyWPPK4bpmS+6WMSTyL4HWL/ICQ", "member", "2", "NULL"),
    (3, "member3", "PTvqokfI7neZ+EoWjWPFiw$dAaMoJYed+j+CX7D2qZf+0GUtJGYOocBS5lCrGXWx5w", "member", "3", "NULL"),
    (4, "seller1", "iVmP3E//Z2v40aNLgRiT3g$ogs9NSOL+uvvnaADx32/0osAZpLNXcPgrB12y0CmNSE", "seller", "NULL", "1"),
    (5, "ops", "o+EoRJ++iKrVDyFplpAlQQ$XI6FEeQyjZXeK2Bx1MTTJLCNjnNjgTKefjVc5rKJto0", "ops", "NULL", "NULL"),
)
SEED = (
    "INSERT IGNORE INTO accounts (account_no, login_id, password_hash, role, member_no, seller_no, created_at) "
    "VALUES "
    + ", ".join(
        f"({no}, '{login}', '{_ARGON2}{digest}', '{role}', {member}, {seller}, '2024-11-28 22:55:09')"
        for no, login, digest, role, member, seller in _SEED_ACCOUNTS
    ),
)
