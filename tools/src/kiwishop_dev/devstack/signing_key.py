"""The local stack's identity signing key: made once into ``.data/identity/signing-key.pem`` (mode 0600,
git-ignored like all of ``.data``) and handed to the identity service as ``KIWI_IDENTITY_SIGNING_KEY``, so that
tokens survive a restart of the stack. Local only: production passes its own key (deploy/README.md)."""

from __future__ import annotations

import os
from pathlib import Path

from kiwishop.identity.keys import generate_private_pem, load_private_key

ENV = "KIWI_IDENTITY_SIGNING_KEY"


def key_path(data_dir: Path) -> Path:
    return data_dir / "identity" / "signing-key.pem"


def local_signing_key(data_dir: Path) -> str:
    """The PEM kept under ``data_dir``, made on the first call."""
    path = key_path(data_dir)
    if path.exists():
        pem = path.read_text()
        load_private_key(pem)  # a damaged file fails here, loudly, not in the service
        return pem
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_pem()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem)
    return pem
