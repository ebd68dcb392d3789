"""Server-side bar charts for the stage dashboard: geometry for inline SVG, no JavaScript."""

from dataclasses import dataclass

LABEL_WIDTH = 150
BAR_AREA = 420
VALUE_WIDTH = 190
ROW_HEIGHT = 30
BAR_HEIGHT = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as people read it
    colour: str
    link: str = ""
    y: int = 0
    width: int = 0


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    text_offset: int = BAR_HEIGHT - 5


def bar_chart(title: str, bars: list[Bar]) -> BarChart:
    """Lay out horizontal bars scaled to the largest value (a bar of a non-zero value is at
    least 2px wide, so it stays visible)."""
    largest = max((bar.value or 0 for bar in bars), default=0)
    placed = []
    for index, bar in enumerate(bars):
        value = bar.value or 0
        width = round(BAR_AREA * value / largest) if largest else 0
        if value and width < 2:
            width = 2
        placed.append(
            Bar(
                label=bar.label,
                value=bar.value,
                text=bar.text,
                colour=bar.colour,
                link=bar.link,
                y=index * ROW_HEIGHT,
                width=width,
            )
        )
    return BarChart(title=title, bars=placed, height=max(len(bars), 1) * ROW_HEIGHT)


def human_duration(seconds: float | None) -> str:
    """3 min, 5 h 20 min, 3.5 days; an em dash for no value."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds / 86400:.1f} days"
