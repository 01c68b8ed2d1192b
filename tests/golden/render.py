"""Render golden responses as HTML in the look of the CDS Hooks sandbox, and screenshot them.

A docs tool, not part of the service or the test suite::

    .venv/bin/python tests/golden/render.py            # docs/img/cards-*.png
    .venv/bin/python tests/golden/render.py --html-only out/   # the HTML pages only

Cards are drawn the way the sandbox draws them: a white box with a left bar in the indicator's
colour, the summary, the source, the markdown detail, suggestion buttons and link buttons. The
markdown renderer covers the subset the cards emit (paragraphs, "- " lists, **bold**, `code`,
backslash escapes); everything else is shown as text, HTML-escaped. Screenshots use Playwright
with the system Chromium (``/usr/bin/chromium``; ``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent
REPOSITORY = GOLDEN.parent.parent
IMAGES = REPOSITORY / "docs" / "img"
CHROMIUM = Path("/usr/bin/chromium")

#: golden file -> (image name, title)
PAGES = {
    "patient-view-case3": (
        "cards-case3",
        "crs-patient-view · Case 3, day 5, 14:25 on the ward clock (-08:00)",
    ),
    "patient-view-case1": ("cards-case1", "crs-patient-view · Case 1, day 2"),
    "patient-view-case3-icans": (
        "cards-case3-icans",
        "crs-patient-view · Case 3, day 9: CRS settling, ICANS rising",
    ),
    "order-sign-case3": ("cards-order-sign-case3", "crs-order-sign · Case 3: tocilizumab 400 mg"),
}

_COLOURS = {"info": "#0079be", "warning": "#f0a500", "critical": "#d0021b"}

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; background: #eef1f4; margin: 0;
       padding: 20px 24px; color: #222; font-size: 14px; line-height: 1.45; }
h1 { font-size: 16px; font-weight: normal; color: #555; margin: 0 0 14px; }
.card { background: #fff; border: 1px solid #d4d9de; border-left: 6px solid;
        border-radius: 3px; margin: 0 0 16px; padding: 12px 16px 14px; }
.summary { font-size: 16px; font-weight: bold; margin-bottom: 2px; }
.indicator { font-size: 11px; text-transform: uppercase; letter-spacing: .05em;
             color: #fff; padding: 1px 6px; border-radius: 2px; margin-right: 8px;
             vertical-align: 2px; }
.source { font-size: 12px; color: #666; margin-bottom: 8px; }
.source a { color: #0066aa; }
.detail p { margin: 6px 0; }
.detail ul { margin: 2px 0 6px; padding-left: 22px; }
.detail li { margin: 1px 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; color: #555;
       background: #f3f4f6; padding: 0 3px; border-radius: 2px; }
.buttons { margin-top: 10px; }
.button { display: inline-block; border: 1px solid #0079be; color: #0079be; background: #fff;
          border-radius: 3px; padding: 5px 12px; margin: 4px 8px 0 0; font-size: 13px; }
.button.recommended { background: #0079be; color: #fff; }
.button.link { border-color: #888; color: #333; }
.extension { font-size: 11px; color: #888; margin-top: 8px; }
"""


def _inline(text: str) -> str:
    """Inline markdown of the subset we emit -> HTML: escapes, `code`, **bold**."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(html.escape(text[index + 1]))
            index += 2
        elif char == "`":
            end = text.find("`", index + 1)
            if end == -1:
                out.append("`")
                index += 1
            else:
                out.append(f"<code>{html.escape(text[index + 1 : end])}</code>")
                index = end + 1
        else:
            out.append(html.escape(char))
            index += 1
    rendered = "".join(out)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", rendered)


def markdown(text: str) -> str:
    """Blocks separated by blank lines; a line starting "- " is a list item."""
    blocks = []
    for block in text.split("\n\n"):
        paragraph: list[str] = []
        items: list[str] = []
        for line in block.split("\n"):
            if line.startswith("- "):
                items.append(f"<li>{_inline(line[2:])}</li>")
            else:
                paragraph.append(_inline(line))
        if paragraph:
            blocks.append(f"<p>{' '.join(paragraph)}</p>")
        if items:
            blocks.append(f"<ul>{''.join(items)}</ul>")
    return "\n".join(blocks)


def card_html(card: dict[str, Any]) -> str:
    colour = _COLOURS[card["indicator"]]
    source = card["source"]
    label = html.escape(source["label"])
    source_html = (
        f'<a href="{html.escape(source["url"])}">{label}</a>' if "url" in source else label
    )
    buttons = [
        f'<span class="button{" recommended" if s.get("isRecommended") else ""}">'
        f"{html.escape(s['label'])}</span>"
        for s in card.get("suggestions", [])
    ]
    buttons += [
        f'<span class="button link">&#8599; {html.escape(link["label"])}</span>'
        for link in card.get("links", [])
    ]
    extension = ""
    if "extension" in card:
        extension = '<div class="extension">carries extension org.crscds.assessment</div>'
    return (
        f'<div class="card" style="border-left-color: {colour}">'
        f'<div class="summary"><span class="indicator" style="background: {colour}">'
        f"{card['indicator']}</span>{html.escape(card['summary'])}</div>"
        f'<div class="source">Source: {source_html}</div>'
        f'<div class="detail">{markdown(card.get("detail", ""))}</div>'
        f'<div class="buttons">{"".join(buttons)}</div>{extension}</div>'
    )


def page_html(answer: dict[str, Any], title: str) -> str:
    cards = "\n".join(card_html(card) for card in answer["cards"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{cards}</body></html>"
    )


def write_pages(directory: Path) -> list[tuple[Path, str]]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for golden, (image, title) in PAGES.items():
        answer = json.loads((GOLDEN / f"{golden}.json").read_text(encoding="utf-8"))
        path = directory / f"{image}.html"
        path.write_text(page_html(answer, title), encoding="utf-8")
        written.append((path, image))
    return written


def screenshot(pages: list[tuple[Path, str]], width: int = 980) -> None:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 200})
            for path, image in pages:
                page.goto(path.as_uri())
                page.screenshot(path=str(IMAGES / f"{image}.png"), full_page=True)
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html-only", type=Path, help="write the HTML pages here and stop")
    args = parser.parse_args(argv)
    if args.html_only is not None:
        write_pages(args.html_only)
        return 0
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        screenshot(write_pages(Path(scratch)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
