"""Bar charts as SVG markup, drawn on the server: no script, no library, and
every label escaped (a lead's source or a reason may hold anything)."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR_HEIGHT, GAP, LABEL_WIDTH, WIDTH = 22, 8, 190, 640
# What fits left of the bars at the chart's font (a wide character's worth to
# spare); a longer label is cut, and its whole text is the row's tooltip.
LABEL_CHARACTERS = 24
COLOURS = ("#a23b52", "#2f7d4f", "#8a6d00", "#4b5fa6", "#5b6272", "#b3261e")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""  # shown after the value, e.g. "42%"


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "") -> str:
    """Horizontal bars, one per row, scaled to the largest; an empty chart says so."""
    if not bars:
        return (
            f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} 40" '
            f'class="chart"><text x="0" y="25">—</text></svg>'
        )
    top = max(bar.value for bar in bars) or 1
    height = len(bars) * (BAR_HEIGHT + GAP)
    room = WIDTH - LABEL_WIDTH - 110
    rows = []
    for index, bar in enumerate(bars):
        y = index * (BAR_HEIGHT + GAP)
        length = max(2.0, room * bar.value / top) if bar.value else 0.0
        shown = f"{bar.value:g}{unit}" + (f" · {bar.note}" if bar.note else "")
        label = _cut(bar.label)
        rows.append(
            f"<g><title>{escape(bar.label)}: {escape(shown)}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="4" fill="{COLOURS[index % len(COLOURS)]}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}">'
            f"{escape(shown)}</text></g>"
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart">{"".join(rows)}</svg>'
    )


def _cut(label: str) -> str:
    """`label` in LABEL_CHARACTERS; "Treatment: outcome" keeps its outcome whole
    (the rows of one treatment differ only there) and cuts the treatment."""
    if len(label) <= LABEL_CHARACTERS:
        return label
    head, colon, tail = label.rpartition(": ")
    room = LABEL_CHARACTERS - len(tail) - len(colon) - 1
    if colon and room >= 4:
        return head[:room].rstrip() + "…" + colon + tail
    return label[: LABEL_CHARACTERS - 1].rstrip() + "…"
