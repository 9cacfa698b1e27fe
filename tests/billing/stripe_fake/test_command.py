"""``manage.py stripe_fake`` keeps its account in a state file under VAR_DIR by default."""

from pathlib import Path
from typing import Any

import pytest

from billing.management.commands.stripe_fake import STATE_ENV, default_state_path


def test_state_file_defaults_to_var_dir(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STATE_ENV, raising=False)
    settings.VAR_DIR = tmp_path

    assert default_state_path() == tmp_path / "stripe_fake.json"


def test_state_file_env_var_wins(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "elsewhere.json"))

    assert default_state_path() == tmp_path / "elsewhere.json"
