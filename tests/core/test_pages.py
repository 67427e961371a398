import gettext
import re
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
    return po_string.replace('\\"', '"')


def test_every_turkish_message_is_translated_and_compiled() -> None:
    po = (TURKISH / "django.po").read_text()
    with (TURKISH / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    entries = [
        (_unescape(msgid), _unescape(msgstr))
        for msgid, msgstr in re.findall(
            r'^msgid "(.+)"\nmsgstr "(.*)"$', po, flags=re.MULTILINE
        )
    ]

    assert entries
    assert [msgid for msgid, msgstr in entries if not msgstr] == []
    assert [
        msgid for msgid, msgstr in entries if catalog.gettext(msgid) != msgstr
    ] == []
