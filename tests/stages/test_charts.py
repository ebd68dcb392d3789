"""Bar geometry and durations for the dashboard."""

from stages.charts import BAR_AREA, ROW_HEIGHT, Bar, bar_chart, human_duration


def test_bars_scale_to_the_largest_value():
    chart = bar_chart(
        "t",
        [
            Bar("a", 10, "10", "#000000"),
            Bar("b", 5, "5", "#000000"),
            Bar("c", 0, "0", "#000000"),
            Bar("d", 0.001, "tiny", "#000000"),
            Bar("e", None, "none", "#000000"),
        ],
    )
    assert [bar.width for bar in chart.bars] == [BAR_AREA, BAR_AREA // 2, 0, 2, 0]
    assert [bar.y for bar in chart.bars] == [
        0,
        ROW_HEIGHT,
        2 * ROW_HEIGHT,
        3 * ROW_HEIGHT,
        4 * ROW_HEIGHT,
    ]
    assert chart.height == 5 * ROW_HEIGHT


def test_an_empty_chart_has_a_row_of_height():
    chart = bar_chart("t", [])
    assert (chart.bars, chart.height) == ([], ROW_HEIGHT)


def test_human_duration():
    assert human_duration(None) == "—"
    assert human_duration(125) == "2 min"
    assert human_duration(3600) == "1 h"
    assert human_duration(5 * 3600 + 20 * 60) == "5 h 20 min"
    assert human_duration(3.5 * 86400) == "3.5 days"
