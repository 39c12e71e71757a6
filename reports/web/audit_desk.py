"""What the IT page needs of the audit of the paths (the composition root builds it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from audit.results import AuditRun
from reports.audit_view import Wording


class AuditDesk(Protocol):
    """What the pages need of the audit (built by the composition root)."""

    def latest(self) -> AuditRun | None: ...
    def runs(self, limit: int) -> Sequence[AuditRun]: ...
    def run(self, run_id: str) -> AuditRun | None: ...
    def running(self) -> AuditRun | None: ...
    def fixed_at(self, path_id: str, after: datetime) -> datetime | None: ...
    def wording(self) -> Wording: ...

    @property
    def can_launch(self) -> bool:
        """Audits are run by this process (the service), not only read."""
        ...

    def launch(self, by: str) -> bool: ...
