"""``decroche serve``: the service for real (see :mod:`decroche.serve`)."""

from __future__ import annotations

import asyncio

import click

from decroche.commands import context


@click.command("serve")
@context.with_config
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Niveau des journaux.",
)
@click.option(
    "--json-logs/--text-logs",
    default=True,
    show_default=True,
    help="Journaux en lignes JSON (journald) ou en texte.",
)
def serve(log_level: str, json_logs: bool) -> None:
    """Le service : routeur ARI, enregistrements, rapports planifiés et tableau de bord."""
    from decroche.serve import configure_logging, run_service

    configure_logging(log_level, json_logs)
    asyncio.run(run_service(context.app()))
