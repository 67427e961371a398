from django.apps import apps
from django.utils import translation
from django_stubs_ext import StrOrPromise

# The project's own apps: third-party models bring their own catalogues.
OWN_APPS = ("core", "clinics", "intake", "leads", "booking", "followups", "staff")


def _staff_visible_names() -> dict[str, StrOrPromise | None]:
    """Each app's, model's and declared field's name, by where it is."""
    names: dict[str, StrOrPromise | None] = {}
    for label in OWN_APPS:
        config = apps.get_app_config(label)
        names[label] = config.verbose_name
        for model in config.get_models():
            where = model._meta.label
            names[where] = model._meta.verbose_name
            names[f"{where} (plural)"] = model._meta.verbose_name_plural
            for field in [*model._meta.fields, *model._meta.many_to_many]:
                if not field.auto_created:  # the id column, Django's own name
                    names[f"{where}.{field.name}"] = field.verbose_name
    return names


def test_every_model_and_field_a_staff_member_sees_has_a_turkish_name() -> None:
    names = _staff_visible_names()
    with translation.override("en"):
        english = {where: str(name) for where, name in names.items()}
    with translation.override("tr"):
        turkish = {where: str(name) for where, name in names.items()}

    assert len(names) > 300
    assert [where for where in names if turkish[where] == english[where]] == []
    # Django capitalises a name with str.upper, which makes "i" an "I", not "İ".
    assert [where for where in names if turkish[where].startswith("i")] == []
