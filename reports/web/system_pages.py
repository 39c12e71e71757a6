"""The IT page: the database, the live feed, the service's health, the rules in force and their
reloads."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from reports import format as fmt
from reports.audit_view import run_view
from reports.web.app import DEPS, render
from reports.web.common import blocking


async def system(request: web.Request) -> web.Response:
    deps = request.app[DEPS]

    def gather() -> dict[str, Any]:
        # The database first, as the service reports it; then the live feed of this page.
        checks = [(c.name, c.ok, c.detail) for c in deps.system.health()]
        latest = deps.live.latest()
        if latest is None:
            checks.append(("Vue en direct", False, "aucun état publié par le routeur"))
        else:
            age = (deps.now() - latest.at).total_seconds()
            said = f"dernier état il y a {fmt.delay(max(age, 0.0))}"  # « 11 h 53 min », not seconds
            checks.append(("Vue en direct", age < 60, said))
        audit = None
        if deps.audit is not None:
            last = deps.audit.latest()
            shown = run_view(last, deps.audit.wording()) if last is not None else None
            audit = {"last": shown, "running": deps.audit.running() is not None}
        return {"checks": checks, "rules": deps.system.rules(), "audit": audit}

    return render(request, "system.html", **await blocking(gather))
