"""`make run` on another port: the links in its emails point at that port."""

import pytest

from core.management.commands.runstack import child_environment


def test_links_follow_the_port_when_site_url_is_not_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SITE_URL", raising=False)

    assert child_environment("http://127.0.0.1:8010")["SITE_URL"] == (
        "http://127.0.0.1:8010"
    )


def test_a_site_url_the_developer_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "https://clinic.example")

    assert child_environment("http://127.0.0.1:8010")["SITE_URL"] == (
        "https://clinic.example"
    )
