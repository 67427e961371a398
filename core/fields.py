"""Model fields that every app may use."""

from typing import Any

from cryptography.fernet import InvalidToken
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Exact, IsNull

from core.ciphers import CiphertextUnreadable, cipher_from_setting


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text a person wrote, stored as Fernet ciphertext under the keys of
    `keys_setting` and read back as text; "" stays "" (nothing written).

    The database never sees the words, so it cannot search or sort by them: the
    only lookups are isnull and equality with "" (empty or not).
    `encrypted_fields()` finds every such column for a key rotation.
    """

    def __init__(
        self, *args: Any, keys_setting: str = "HEALTH_DATA_KEYS", **kwargs: Any
    ):
        self.keys_setting = keys_setting
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.keys_setting != "HEALTH_DATA_KEYS":
            kwargs["keys_setting"] = self.keys_setting
        return name, path, args, kwargs

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if not value:
            return value
        try:
            return (
                cipher_from_setting(self.keys_setting).decrypt(value.encode()).decode()
            )
        except InvalidToken as error:
            raise CiphertextUnreadable(
                f"No key in {self.keys_setting} decrypts "
                f"{self.model.__name__}.{self.name}."
            ) from error

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return cipher_from_setting(self.keys_setting).encrypt(value.encode()).decode()

    def get_lookup(self, lookup_name: str) -> Any:
        return {"isnull": IsNull, "exact": _EmptyExact}.get(lookup_name)


class _EmptyExact(Exact):  # type: ignore[type-arg]
    """`field=""` only: equal to any other text would never match ciphertext."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise ValueError("An encrypted field can only be compared with ''.")
        return super().get_prep_lookup()


def encrypted_fields(keys_setting: str) -> list[EncryptedTextField]:
    """Every installed model's EncryptedTextField under `keys_setting`."""
    from django.apps import apps

    return [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField) and field.keys_setting == keys_setting
    ]


def encrypt_existing_text(
    app_label: str,
    model_name: str,
    field_name: str,
    keys_setting: str = "HEALTH_DATA_KEYS",
) -> Any:
    """A migration step that encrypts a plain text column's rows in place (and
    decrypts them back when unapplied): put it before the AlterField that makes
    the column an EncryptedTextField, and its reverse after."""
    from django.db import migrations

    def rows(apps: Any) -> Any:
        model = apps.get_model(app_label, model_name)
        return model, model._default_manager.exclude(**{field_name: ""})

    def forwards(apps: Any, schema_editor: Any) -> None:
        model, queryset = rows(apps)
        cipher = cipher_from_setting(keys_setting)
        for pk, plain in queryset.values_list("pk", field_name).iterator():
            token = cipher.encrypt(plain.encode()).decode()
            model._default_manager.filter(pk=pk).update(**{field_name: token})

    def backwards(apps: Any, schema_editor: Any) -> None:
        model, queryset = rows(apps)
        cipher = cipher_from_setting(keys_setting)
        for pk, token in queryset.values_list("pk", field_name).iterator():
            plain = cipher.decrypt(token.encode()).decode()
            model._default_manager.filter(pk=pk).update(**{field_name: plain})

    return migrations.RunPython(forwards, backwards)
