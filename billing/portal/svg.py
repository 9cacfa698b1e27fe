"""A server-drawn bar chart: inline SVG, no JavaScript, readable by screen readers.

The drawing is plain arithmetic over a fixed viewBox; the browser scales it to any width
(a phone's too, so the viewBox is narrow enough for its text to stay legible there). Every
bar carries its own ``<title>`` (a tooltip and an accessible name); colors come from the
stylesheet's classes, so the chart follows the light and the dark theme.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 58, 10, 14, 30
FONT_SIZE = 13
BAR_COLOR = "url(#usage-bar-fill)"
GRID_STEPS = 4
#: The round steps an axis may use, times a power of ten.
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
#: Day labels closer than this (in days) would overlap at FONT_SIZE.
MIN_LABEL_GAP_DAYS = 3


def round_ticks(top_value: Decimal, steps: int = GRID_STEPS) -> list[Decimal]:
    """Axis ticks from zero in round steps (1, 2, 2.5 or 5 times a power of ten), the
    last at or above ``top_value``; at most ``steps`` steps."""
    if top_value <= 0:
        return [Decimal(0), Decimal(1)]
    rough = top_value / steps
    magnitude = Decimal(10) ** (rough.adjusted())
    step = next(nice * magnitude for nice in NICE_STEPS if nice * magnitude >= rough)
    count = int((top_value / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * index for index in range(count + 1)]


def day_labels(days: Sequence[date]) -> list[int]:
    """Indexes of the days labelled on the x axis: the 1st, every 5th and the last, leaving
    out any that would sit closer than ``MIN_LABEL_GAP_DAYS`` to the label before it (the
    last day wins over a 30th one day earlier)."""
    wanted = [
        index
        for index, day in enumerate(days)
        if day.day == 1 or day.day % 5 == 0 or index == len(days) - 1
    ]
    kept: list[int] = []
    for index in wanted:
        if kept and index - kept[-1] < MIN_LABEL_GAP_DAYS:
            if index != len(days) - 1:
                continue
            kept.pop()
        kept.append(index)
    return kept


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
    ticks = round_ticks(top_value)
    scale_max = ticks[-1]
    band = plot_w / max(len(days), 1)
    bar_w = max(band * 0.68, 1.0)
    parts: list[str] = [
        format_html(
            '<svg id="{}" class="chart" viewBox="0 0 {} {}" role="img" '
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
        '<stop offset="0" class="bar-fill-from" stop-color="#6d4aff"/>'
        '<stop offset="1" class="bar-fill-to" stop-color="#5b8cff"/>'
        "</linearGradient></defs>",
    ]
    for tick in ticks:
        y = TOP + plot_h - float(tick / scale_max) * plot_h
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#2a2f3a" stroke-width="1"/>'
        )
        if top_value > 0 or tick == 0:
            parts.append(
                f'<text class="chart-label y-label" x="{LEFT - 6}" y="{y + 4:.1f}" '
                f'text-anchor="end" font-size="{FONT_SIZE}" fill="#9aa3b2">'
                f"{escape(value_label(tick))}</text>"
            )
    for index, day in enumerate(days):
        value = values.get(day, Decimal(0))
        if value > 0:
            x = LEFT + index * band
            bar_h = max(float(value / scale_max) * plot_h, 1.5)
            note = bar_note(day)
            parts.append(
                f'<rect class="bar" data-day="{day.isoformat()}" x="{x + (band - bar_w) / 2:.1f}" '
                f'y="{TOP + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                f'rx="2" fill="{BAR_COLOR}"><title>{escape(day.strftime("%b %-d"))}: '
                f"{escape(value_label(value))}{escape(note)}</title></rect>"
            )
    for index in day_labels(days):
        parts.append(
            f'<text class="chart-label x-label" x="{LEFT + (index + 0.5) * band:.1f}" '
            f'y="{HEIGHT - 8}" text-anchor="middle" font-size="{FONT_SIZE}" '
            f'fill="#9aa3b2">{days[index].day}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
