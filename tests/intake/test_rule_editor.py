"""The admin's rule editor: a draft's rules edited one by one, checked as a whole."""

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from intake.models import QuestionnaireVersion, ScreeningRuleSetVersion
from intake.rule_forms import rule_initial
from intake.services.screening import rule_set_version_draft_create


def post_data(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """What the editor page posts for these rules, unchanged, plus an empty new rule."""
    data: dict[str, Any] = {
        "form-TOTAL_FORMS": len(rules) + 1,
        "form-INITIAL_FORMS": len(rules),
    }
    for index, rule in enumerate(rules):
        for name, value in rule_initial(rule).items():
            if value in (None, ""):
                continue
            if name == "when":
                value = json.dumps(value)
            data[f"form-{index}-{name}"] = value
    return data


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    client.force_login(User.objects.create_superuser("boss", "b@clinic.example", "pw"))
    return client


@pytest.fixture
def draft(published: QuestionnaireVersion) -> ScreeningRuleSetVersion:
    current = ScreeningRuleSetVersion.objects.get(status="published")
    return rule_set_version_draft_create(from_version_id=current.pk)


def test_saving_unchanged_rules_keeps_the_definition_as_it_was(
    admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    before = draft.definition
    url = f"/admin/intake/screeningrulesetversion/{draft.pk}/rules/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, post_data(before["rules"]))

    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.definition == before


def test_a_medical_director_changes_a_rules_class_without_touching_json(
    admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    rules = draft.definition["rules"]
    index = next(i for i, r in enumerate(rules) if r["outcome"] == "review")
    data = post_data(rules)
    data[f"form-{index}-outcome"] = "contraindicated"

    admin_client.post(f"/admin/intake/screeningrulesetversion/{draft.pk}/rules/", data)

    draft.refresh_from_db()
    assert draft.definition["rules"][index]["outcome"] == "contraindicated"


def test_a_rule_reading_an_unknown_question_is_refused_with_its_id(
    admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    rules = draft.definition["rules"]
    data = post_data(rules)
    data["form-0-when"] = json.dumps({"item": "blod_thinners", "equals": True})

    response = admin_client.post(
        f"/admin/intake/screeningrulesetversion/{draft.pk}/rules/", data
    )

    assert response.status_code == 200
    assert "blod_thinners" in response.content.decode()
    draft.refresh_from_db()
    assert draft.definition["rules"] == rules


def test_a_published_versions_rules_are_shown_but_cannot_be_saved(
    admin_client: Client, published: QuestionnaireVersion
) -> None:
    current = ScreeningRuleSetVersion.objects.get(status="published")
    url = f"/admin/intake/screeningrulesetversion/{current.pk}/rules/"
    data = post_data(current.definition["rules"])
    data["form-0-outcome"] = "info"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "cannot change" in response.content.decode()
    current.refresh_from_db()
    assert current.definition["rules"][0]["outcome"] != "info"


def test_the_blank_new_rule_form_sent_as_a_browser_sends_it_saves(
    admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    rules = draft.definition["rules"]
    url = f"/admin/intake/screeningrulesetversion/{draft.pk}/rules/"
    page = admin_client.get(url).content.decode()
    blank = page.split(f'name="form-{len(rules)}-outcome"')[1]
    first_option = re.search(r'<option value="([^"]*)"', blank)
    assert first_option is not None
    data = post_data(rules)
    # A select sends its first option when nobody touched it.
    data[f"form-{len(rules)}-outcome"] = first_option.group(1)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def turkish_admin_client(admin_client: Client) -> Client:
    # The admin has no language prefix: LocaleMiddleware reads the switch's cookie.
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    return admin_client


def test_a_turkish_medical_director_edits_rules_in_turkish(
    turkish_admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    url = f"/admin/intake/screeningrulesetversion/{draft.pk}/rules/"

    page = turkish_admin_client.get(url).content.decode()

    for turkish, english in [
        ("Kuralları kaydet", "Save rules"),
        ("Yeni kural (eklemek istemiyorsanız boş bırakın)", "New rule (leave"),
        ("Hastaya gösterilen metin (Türkçe)", "Patient text (Turkish)"),
        ("kontrendike (contraindicated): sunulmaz", "contraindicated: not offered"),
        ("Personel için.", "For staff."),
        ("Her kural, koşulu sağlandığında", "Each rule gives its class"),
        (">Koşul:</label>", ">When:</label>"),
    ]:
        assert turkish in page
        assert english not in page


def test_a_turkish_medical_director_reads_a_dry_run_in_turkish(
    turkish_admin_client: Client, draft: ScreeningRuleSetVersion
) -> None:
    response = turkish_admin_client.post(
        "/admin/intake/screeningrulesetversion/",
        {"action": "dry_run", "_selected_action": [draft.pk]},
    )

    page = response.content.decode()
    assert f"{draft} deneme çalıştırması" in page
    assert "Kayıtlı hiçbir sonuç değişmezdi." in page
    assert "Sürümlere dön" in page
    for english in ["Dry run of", "No stored outcome", "Back to the versions"]:
        assert english not in page


def test_view_site_from_the_turkish_admin_opens_the_turkish_site(
    turkish_admin_client: Client,
) -> None:
    admin_page = turkish_admin_client.get("/admin/").content.decode()
    link = re.search(r'<a href="([^"]*)">Siteyi göster</a>', admin_page)
    assert link is not None

    site = turkish_admin_client.get(link.group(1), follow=True)

    assert site.redirect_chain[-1][0] == "/tr/"
    assert site.status_code == 200
    assert site["Content-Language"] == "tr"
