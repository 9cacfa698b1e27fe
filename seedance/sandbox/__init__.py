"""A local server that speaks Runflow's API, renders real MP4s and misbehaves on request.

It lets the whole project run and be tested with no Runflow key and no internet; the
code under test only changes its base URL.
"""

from .faults import FaultError, FaultRules, Faults
from .server import SandboxServer

__all__ = ["FaultError", "FaultRules", "Faults", "SandboxServer"]
