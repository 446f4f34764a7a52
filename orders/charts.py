"""A bar chart as plain SVG geometry, drawn by the template: no chart library, no script, no inline style."""

from dataclasses import dataclass

from django.utils import formats, timezone

from orders.today import Bar

WIDTH = 720
HEIGHT = 200
# Room for the hour labels under the bars and the scale on the left.
BOTTOM = 24
LEFT = 28
TOP = 8


@dataclass(frozen=True)
class DrawnBar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    left: int
    top: int
    maximum: int
    bars: list[DrawnBar]
    ticks: list[Tick]


def quarter_hour_chart(bars: list[Bar], zone) -> Chart | None:
    """Bars scaled to the busiest quarter hour; an hour label under each full hour."""
    if not bars:
        return None
    maximum = max(bar.count for bar in bars) or 1
    plot_width = WIDTH - LEFT
    plot_height = HEIGHT - BOTTOM - TOP
    step = plot_width / len(bars)
    drawn, ticks = [], []
    for index, bar in enumerate(bars):
        height = plot_height * bar.count / maximum
        local = timezone.localtime(bar.start, zone)
        label = formats.time_format(local, "H:i")
        x = LEFT + index * step
        top = TOP + plot_height - height
        drawn.append(DrawnBar(round(x + step * 0.1, 1), round(top, 1), round(step * 0.8, 1), round(height, 1), bar.count, label))
        if local.minute == 0:
            ticks.append(Tick(round(x, 1), label))
    return Chart(WIDTH, HEIGHT, TOP + plot_height, LEFT, TOP, maximum, drawn, ticks)
