"""The funnel's bar charts: long labels fit, and every label is text."""

from staff.charts import Bar, bar_chart


def test_a_long_label_is_cut_to_fit_and_whole_in_its_tooltip() -> None:
    reason = "The patient chose another clinic closer to their home"

    svg = bar_chart([Bar(reason, 3), Bar("<b>Price</b>", 1)], title="Lost")

    assert "The patient chose anoth…" in svg
    assert f"<title>{reason}: 3</title>" in svg
    assert "&lt;b&gt;Price&lt;/b&gt;" in svg
    assert "<b>" not in svg


def test_rows_of_one_treatment_keep_their_outcome_whole() -> None:
    svg = bar_chart(
        [
            Bar("Vitamin K mesotherapy: not suitable", 1),
            Bar("Vitamin K mesotherapy: review", 2),
        ],
        title="Outcomes",
    )

    assert "Vitamin K…: not suitable" in svg
    assert "Vitamin K mesot…: review" in svg
