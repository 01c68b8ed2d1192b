"""docs/watch.md is part of the watch: its webhook verification recipe works against what the
watch signs, and it names every watch setting."""

from __future__ import annotations

import re
import time
from pathlib import Path

from cds_service.config import WATCH_VARIABLES, WatchSettings
from cds_service.watch.alerts import sign_webhook
from cds_service.watch.worker import alert_lost_after_s, lost_after_s

DOC = Path(__file__).resolve().parents[2] / "docs" / "watch.md"
SECRET = "receiver-secret-0123456789-abcdefghijklmno"


def documented_verify():
    block = next(
        b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S) if "def verify(" in b
    )
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def test_the_documented_webhook_check_accepts_the_watchs_signature_and_nothing_else():
    verify = documented_verify()
    body = b'{"id": "p1.1"}'
    header = sign_webhook(body, SECRET)
    assert verify(body, header, SECRET)
    assert not verify(body + b" ", header, SECRET)  # a changed body
    assert not verify(body, header, SECRET[:-1])  # another key
    stale = sign_webhook(body, SECRET, now=time.time() - 3600)
    assert not verify(body, stale, SECRET)  # a replay an hour later
    assert not verify(body, "v1=" + header.split("v1=")[1], SECRET)  # no time


def test_the_doc_names_every_watch_setting():
    text = DOC.read_text()
    missing = [name for name, _, _ in WATCH_VARIABLES if name not in text]
    assert missing == []


def test_the_doc_gives_the_recovery_sweeps_waits_the_code_uses():
    """Review finding: the doc said an undelivered alert is sent again after 60 s; the sweep
    waits max(60 s, 2 x the longest retry delay), 320 s by default."""
    text = " ".join(DOC.read_text().split())
    defaults = WatchSettings()
    assert f"({alert_lost_after_s(defaults):.0f} s by default" in text
    assert f"({lost_after_s(defaults):.0f} s by default" in text
    assert "is sent after 60 s" not in text
