"""What the fault tests share: one summary line per fault at the end of the run."""

import pytest

_reports: list[str] = []


def fault_report(name: str, **figures: object) -> None:
    """Note `name`'s figures (lost=0, duplicated=1, recovery_s=4.2, ...) for the
    summary printed at the end of the run."""
    shown = " ".join(f"{key}={value}" for key, value in figures.items())
    _reports.append(f"{name}: {shown}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _reports:
        terminalreporter.section("faults survived")
        for line in _reports:
            terminalreporter.write_line(line)
