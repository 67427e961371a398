import gettext
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TURKISH = ROOT / "locale/tr/LC_MESSAGES"


@pytest.mark.django_db
def test_the_root_address_sends_visitors_to_the_start_page_in_their_language(
    client: Client,
) -> None:
    response = client.get("/", headers={"Accept-Language": "tr-TR,tr;q=0.9"})

    assert response.status_code == 302
    assert response["Location"] == "/tr/"


@pytest.mark.django_db
def test_the_start_page_speaks_turkish_under_tr(client: Client) -> None:
    page = client.get("/tr/").content.decode()

    assert '<html lang="tr">' in page
    assert "Kızarıklık ve kılcal damarlar" in page


def _unescape(po_string: str) -> str:
    return po_string.replace('\\"', '"').replace("\\n", "\n")


def _po_entries(po: str) -> list[tuple[str, str, str]]:
    """(msgctxt, msgid, msgstr) of each singular entry, continuation lines joined;
    msgctxt is "" for an entry without one."""
    entries = []
    for block in po.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ")):
                key, _space, rest = line.partition(" ")
                fields[key] = rest[1:-1]
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid") and "msgid_plural" not in fields:
            entries.append(
                (
                    _unescape(fields.get("msgctxt", "")),
                    _unescape(fields["msgid"]),
                    _unescape(fields["msgstr"]),
                )
            )
    return entries


def test_every_turkish_message_is_translated_and_compiled() -> None:
    po = (TURKISH / "django.po").read_text()
    with (TURKISH / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    entries = _po_entries(po)

    assert len(entries) > 100
    assert [msgid for _context, msgid, msgstr in entries if not msgstr] == []
    assert [
        msgid
        for context, msgid, msgstr in entries
        if (catalog.pgettext(context, msgid) if context else catalog.gettext(msgid))
        != msgstr
    ] == []
