"""The local stack's identity signing key: made once under .data (mode 0600), the same key afterwards."""

from __future__ import annotations

import stat
from pathlib import Path

from kiwishop.identity.keys import signing_keys
from kiwishop_dev.devstack.signing_key import key_path, local_signing_key


def test_the_key_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    first = local_signing_key(tmp_path)
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert local_signing_key(tmp_path) == first
    assert signing_keys(first).algorithm == "EdDSA"
