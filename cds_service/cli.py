"""The ``crs-cds`` command line.

``crs-cds serve`` runs the development server: authentication off unless ``CRS_CDS_AUTH`` says
otherwise (logged as a warning), SQLite in the instance folder unless ``DATABASE_URL`` is set.
For production run gunicorn (see README). ``crs-cds grade FILE`` grades a Bundle or a folder of
resources with the clinical core alone; ``crs-cds demo-data DIR`` writes the seed cases as FHIR
transaction Bundles; ``crs-cds demo`` serves the service with a demo EHR; ``crs-cds call``
calls a service as an EHR would. Each command group lives in its own module and registers
itself with an ``add_..._command(subcommands)`` function listed in ``_SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from cds_service import create_app, storage
from cds_service.call_command import add_call_command
from cds_service.demo_command import add_demo_command
from cds_service.errors import SettingsError
from cds_service.grade_command import add_demo_data_command, add_grade_command
from cds_service.watch import add_watch_command

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

#: Settings the development server uses when the environment does not set them.
DEVELOPMENT_DEFAULTS = {"CRS_CDS_AUTH": "none"}


def _serve(args: argparse.Namespace) -> int:
    app = create_app(defaults=DEVELOPMENT_DEFAULTS)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("the development server listens beyond this machine on %s", args.host)
    logger.info("development server on http://%s:%d/cds-services", args.host, args.port)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0


def _add_serve(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subcommands.add_parser(
        "serve",
        help="run the development server (authentication off unless CRS_CDS_AUTH is set)",
        description="Run the Flask development server. Not for production: use gunicorn.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    serve.set_defaults(handler=_serve)


def _db_upgrade(args: argparse.Namespace) -> int:
    """Bring the database of ``DATABASE_URL`` to the current schema revision (Alembic)."""
    app = create_app({**os.environ, "CRS_CDS_DB_UPGRADE": "auto"})
    revision = storage.current_revision(storage.get_storage(app).engine)
    sys.stdout.write(f"database schema at revision {revision}\n")
    return 0


def _add_db(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    database = subcommands.add_parser(
        "db", help="database maintenance", description="Database maintenance commands."
    )
    actions = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="apply the schema migrations to DATABASE_URL",
        description=(
            "Apply the Alembic migrations to the database of DATABASE_URL (for deployments "
            "that run with CRS_CDS_DB_UPGRADE=off)."
        ),
    )
    upgrade.set_defaults(handler=_db_upgrade)


_SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    _add_serve,
    add_demo_command,
    add_grade_command,
    add_demo_data_command,
    add_call_command,
    _add_db,
    add_watch_command,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="crs-cds", description="CDS Hooks service for cytokine release syndrome."
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crs-cds`` console script."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except SettingsError as error:
        sys.stderr.write(f"crs-cds: configuration error: {error}\n")
        return 2
    except BrokenPipeError:  # e.g. `crs-cds call ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
