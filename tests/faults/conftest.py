"""What every fault test shares: a one-line report of what the fault cost.

Each fault test calls the `fault_report` fixture once with its figures (what was
lost, what was duplicated, how long recovery took); the lines are printed together
at the end of the run, whatever the capture mode, so that a run of the fault suite
says for each fault what it cost.
"""

from collections.abc import Callable

import pytest

FaultReport = Callable[..., None]

_REPORTS: list[str] = []


def _line(name: str, figures: dict[str, object]) -> str:
    shown = ", ".join(
        f"{key.replace('_', ' ')}={value}" for key, value in figures.items()
    )
    return f"FAULT {name}: {shown}"


@pytest.fixture
def fault_report() -> FaultReport:
    """`fault_report(name, **figures)`: record one fault's figures, e.g.
    `fault_report("database-restart", lost=0, duplicated=0)`."""

    def report(name: str, **figures: object) -> None:
        line = _line(name, figures)
        _REPORTS.append(line)
        # Also in the test's own captured output (-rA).
        print(line)

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORTS:
        terminalreporter.section("faults survived")
        for line in _REPORTS:
            terminalreporter.write_line(line)
