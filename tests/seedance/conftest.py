"""seedance's tests use the shared service fixtures (tests/fixtures/services.py)."""

from tests.fixtures.services import wait_for_run

__all__ = ["wait_for_run"]
