"""A server-drawn bar chart: inline SVG, no JavaScript, readable by screen readers.

The drawing is plain arithmetic over a fixed viewBox; the browser scales it to any width.
Every bar carries its own ``<title>`` (a tooltip and an accessible name).
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 10, 14, 30
FONT_SIZE = 13
BAR_COLOR = "url(#usage-bar-fill)"
AXIS_COLOR = "#2a2f3a"
TEXT_COLOR = "#9aa3b2"
GRID_STEPS = 4


def daily_bar_chart(
    *,
    chart_id: str,
    days: Sequence[date],
    values: Mapping[date, Decimal],
    title: str,
    description: str,
    value_label: Callable[[Decimal], str],
    bar_note: Callable[[date], str] = lambda day: "",
) -> SafeString:
    """One bar per day that has a value above zero; the x axis spans every day given."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max((v for v in values.values()), default=Decimal(0))
    scale_max = top_value if top_value > 0 else Decimal(1)
    band = plot_w / max(len(days), 1)
    bar_w = max(band * 0.68, 1.0)
    parts: list[str] = [
        format_html(
            '<svg id="{}" class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-label="{}" aria-labelledby="{}-title {}-desc" '
            'preserveAspectRatio="xMidYMid meet" '
            'xmlns="http://www.w3.org/2000/svg">',
            chart_id,
            WIDTH,
            HEIGHT,
            title,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description),
        '<defs><linearGradient id="usage-bar-fill" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#7c5cff"/><stop offset="1" stop-color="#5b8cff"/>'
        "</linearGradient></defs>",
    ]
    for step in range(GRID_STEPS + 1):
        fraction = Decimal(step) / GRID_STEPS
        y = TOP + plot_h - float(fraction) * plot_h
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{AXIS_COLOR}" stroke-width="1"/>'
        )
        if top_value > 0 or step == 0:
            parts.append(
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT_SIZE}" '
                f'fill="{TEXT_COLOR}">{escape(value_label(scale_max * fraction))}</text>'
            )
    for index, day in enumerate(days):
        x = LEFT + index * band
        value = values.get(day, Decimal(0))
        if value > 0:
            bar_h = max(float(value / scale_max) * plot_h, 1.5)
            note = bar_note(day)
            parts.append(
                f'<rect class="bar" data-day="{day.isoformat()}" x="{x + (band - bar_w) / 2:.1f}" '
                f'y="{TOP + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                f'rx="2" fill="{BAR_COLOR}"><title>{escape(day.strftime("%b %-d"))}: '
                f"{escape(value_label(value))}{escape(note)}</title></rect>"
            )
        if day.day == 1 or day.day % 5 == 0 or index == len(days) - 1:
            parts.append(
                f'<text x="{x + band / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                f'font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">{day.day}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
