"""Bar and line charts drawn on the server as SVG: no script, nothing fetched, nothing the CSP refuses.

A chart is a ``<svg>`` element for a template to put in the page. Colours and fonts come from
classes that ``edge/dashboard.css`` styles with the admin's own colour variables (light and dark
theme alike); every bar and point carries its label and value as ``data-`` attributes, and a
``<title>`` that the browser shows as its tooltip.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 200
LEFT = 44
RIGHT = 8
# Above the plot: the caption, and under it the legend of a chart of several series.
TOP = 38
BOTTOM = 24
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
# Up to this many labels each get one under the axis; beyond, the first, middle and last do.
ALL_LABELS_UP_TO = 12
# The room of one series in the legend: its colour and its name.
LEGEND_ITEM = 90

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]


def bar_chart(*, key: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Bars for each label, the series stacked on one another (one series: plain bars)."""
    top = _top([sum(values, Decimal(0)) for values in zip(*_decimals(series), strict=True)])
    slot = PLOT_WIDTH / max(len(labels), 1)
    bar_width = max(slot * 0.8, 1)
    bars = []
    for index, label in enumerate(labels):
        x = LEFT + index * slot + (slot - bar_width) / 2
        base = Decimal(0)
        for number, one in enumerate(series):
            value = one.values[index]
            y_low, y_high = _y(base, top), _y(base + Decimal(value), top)
            bars.append(
                format_html(
                    '<rect class="series-{}" x="{}" y="{}" width="{}" height="{}" data-series="{}"'
                    ' data-label="{}" data-value="{}"><title>{}: {} {}</title></rect>',
                    number,
                    _n(x),
                    _n(y_high),
                    _n(bar_width),
                    _n(y_low - y_high),
                    one.name,
                    label,
                    value,
                    label,
                    value,
                    one.name,
                )
            )
            base += Decimal(value)
    return _svg(key=key, title=title, labels=labels, series=series, top=top, body=_joined(bars))


def line_chart(*, key: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """A line for each series through its value at each label."""
    top = _top([value for values in _decimals(series) for value in values])
    slot = PLOT_WIDTH / max(len(labels), 1)
    lines = []
    for number, one in enumerate(series):
        # At the middle of each label's slot, where a bar chart of the same labels has its bars.
        points = [
            (LEFT + index * slot + slot / 2, _y(Decimal(value), top))
            for index, value in enumerate(one.values)
        ]
        lines.append(
            format_html(
                '<polyline class="series-{}" points="{}"></polyline>',
                number,
                " ".join(f"{_n(x)},{_n(y)}" for x, y in points),
            )
        )
        lines.append(
            format_html_join(
                "",
                '<circle class="series-{}" cx="{}" cy="{}" r="2.5" data-series="{}" data-label="{}"'
                ' data-value="{}"><title>{}: {} {}</title></circle>',
                (
                    (number, _n(x), _n(y), one.name, label, value, label, value, one.name)
                    for (x, y), label, value in zip(points, labels, one.values, strict=True)
                ),
            )
        )
    return _svg(key=key, title=title, labels=labels, series=series, top=top, body=_joined(lines))


def _svg(
    *, key: str, title: str, labels: Sequence[str], series: Sequence[Series], top: Decimal, body: SafeString
) -> SafeString:
    return format_html(
        '<svg class="chart" data-chart="{key}" viewBox="0 0 {width} {height}"'
        ' preserveAspectRatio="xMinYMid meet" role="img" aria-label="{title}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        '<text class="caption" x="{left}" y="13">{title}</text>{legend}'
        '<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"></line>'
        '<line class="grid" x1="{left}" y1="{top_y}" x2="{right}" y2="{top_y}"></line>'
        '<text class="tick" x="{tick_x}" y="{top_y}" text-anchor="end" dominant-baseline="middle">{top}</text>'
        '<text class="tick" x="{tick_x}" y="{bottom}" text-anchor="end" dominant-baseline="middle">0</text>'
        "{body}{x_labels}</svg>",
        key=key,
        title=title,
        width=WIDTH,
        height=HEIGHT,
        legend=_legend(series),
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom=TOP + PLOT_HEIGHT,
        top_y=TOP,
        tick_x=LEFT - 4,
        top=_n(top),
        body=body,
        x_labels=_x_labels(labels),
    )


def _legend(series: Sequence[Series]) -> SafeString:
    if len(series) < 2:
        return mark_safe("")
    return format_html_join(
        "",
        '<rect class="series-{}" x="{}" y="19" width="10" height="10"></rect>'
        '<text class="legend" x="{}" y="28">{}</text>',
        (
            (number, _n(LEFT + number * LEGEND_ITEM), _n(LEFT + number * LEGEND_ITEM + 14), one.name)
            for number, one in enumerate(series)
        ),
    )


def _x_labels(labels: Sequence[str]) -> SafeString:
    if not labels:
        return mark_safe("")
    slot = PLOT_WIDTH / len(labels)
    shown = (
        range(len(labels))
        if len(labels) <= ALL_LABELS_UP_TO
        else sorted({0, len(labels) // 2, len(labels) - 1})
    )
    return format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((_n(LEFT + index * slot + slot / 2), HEIGHT - 6, labels[index]) for index in shown),
    )


def _joined(parts: Sequence[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _decimals(series: Sequence[Series]) -> list[list[Decimal]]:
    return [[Decimal(value) for value in one.values] for one in series]


def _top(values: Sequence[Decimal]) -> Decimal:
    """The axis' top: the largest value, or 1 when there is nothing, so empty charts still draw."""
    return max([*values, Decimal(1)])


def _y(value: Decimal, top: Decimal) -> float:
    return TOP + PLOT_HEIGHT - float(value / top) * PLOT_HEIGHT


def _n(number: Number) -> str:
    """A coordinate or tick as short as it can be: 12, 12.5, not 12.500000001."""
    return f"{float(number):.1f}".removesuffix(".0")
