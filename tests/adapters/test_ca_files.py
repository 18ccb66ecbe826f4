"""The CA on disk: made once in <data_dir>/ca (key readable by its owner only), reused, or the operator's."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from chargewise.adapters.ca_files import CaError, ca_paths, open_authority
from chargewise.security.authority import make_root, new_key

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_made_on_first_use_then_reused(tmp_path: Path) -> None:
    first = open_authority(tmp_path, NOW)
    cert_path, key_path = ca_paths(tmp_path)
    assert cert_path.exists() and stat.S_IMODE(key_path.stat().st_mode) == 0o600
    again = open_authority(tmp_path, NOW)
    assert again.certificate == first.certificate


def test_an_operators_ca(tmp_path: Path) -> None:
    key = new_key()
    root = make_root(key, NOW, "operator CA")
    (tmp_path / "op.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "op.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))  # fmt: skip
    opened = open_authority(tmp_path / "data", NOW, cert=tmp_path / "op.pem", key=tmp_path / "op.key")
    assert opened.certificate == root and not ca_paths(tmp_path / "data")[0].exists()


def test_bad_files_are_one_line_naming_the_file(tmp_path: Path) -> None:
    other = new_key()
    (tmp_path / "op.pem").write_bytes(make_root(new_key(), NOW).public_bytes(serialization.Encoding.PEM))
    (tmp_path / "other.key").write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    (tmp_path / "junk").write_text("junk")
    cases = [({"cert": tmp_path / "op.pem", "key": None}, "go together"),
             ({"cert": tmp_path / "missing.pem", "key": tmp_path / "other.key"}, "cannot read the CA certificate"),
             ({"cert": tmp_path / "junk", "key": tmp_path / "other.key"}, "is not a PEM certificate"),
             ({"cert": tmp_path / "op.pem", "key": tmp_path / "junk"}, "not an unencrypted PEM private key"),
             ({"cert": tmp_path / "op.pem", "key": tmp_path / "other.key"}, "is not the key of")]  # fmt: skip
    for paths, message in cases:
        with pytest.raises(CaError, match=message) as refused:
            open_authority(tmp_path, NOW, **paths)  # type: ignore[arg-type]
        assert "\n" not in str(refused.value)
