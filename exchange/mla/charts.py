"""Bar charts drawn on the server as SVG: no script, no external resource, no inline style."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 260
BAR_WIDTH = 320


def bar_chart(rows: list[tuple[str, int]], title: str) -> Markup:
    """Return an accessible horizontal bar chart of ``rows`` (label, count) as inline SVG."""
    if not rows:
        return Markup("")
    top = max(count for _label, count in rows) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, count) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(1, round(BAR_WIDTH * count / top))
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
            f'fill="#1b1f24">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="#0b5394">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 15}" font-size="12" '
            f'fill="#1b1f24">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
