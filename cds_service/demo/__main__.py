"""Regenerate the shipped demo data: ``python -m cds_service.demo``.

Writes the Bundles and expected.json into ``cds_service/demo/data`` (the README that
``write_demo_data`` adds is for users' output folders, not package data).
"""

from __future__ import annotations

import logging
from pathlib import Path

from cds_service.demo import DEFAULT_DAY0, _render_demo_files

logger = logging.getLogger("cds_service.demo")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = Path(__file__).parent / "data"
    for name, text in _render_demo_files(DEFAULT_DAY0, future=True).items():
        if name.endswith(".json"):
            (data / name).write_text(text, encoding="utf-8")
            logger.info("wrote %s", data / name)


if __name__ == "__main__":
    main()
