"""The web app: tableau de bord, service pages, live view, agents' page, IT status, exports."""

from reports.web.app import WebDeps, create_app

__all__ = ["WebDeps", "create_app"]
