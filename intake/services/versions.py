"""Draft -> published -> retired, shared by questionnaire and rule-set versions."""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import BusinessError
from intake.models import ImmutableOncePublished, VersionStatus

V = TypeVar("V", bound=ImmutableOncePublished)


class VersionNotDraft(BusinessError):
    code = "version_not_draft"


def version_create(model: type[V], *, parent: dict[str, Any], definition: Any) -> V:
    """A new draft numbered after the parent's newest version."""
    versions = model._default_manager.filter(**parent)
    last = versions.aggregate(last=Max("number"))["last"] or 0
    return model._default_manager.create(
        **parent, number=last + 1, definition=definition
    )


def version_import(
    model: type[V],
    *,
    parent_field: str,
    parent: models.Model,
    data: Mapping[str, Any],
) -> tuple[V, bool]:
    """Publish `data` as the parent's newest version unless it already is.

    Idempotent: the same data again changes nothing and returns (published, False).
    The caller has checked `data`.
    """
    with transaction.atomic():
        type(parent)._default_manager.select_for_update().get(pk=parent.pk)
        current = model._default_manager.filter(
            **{parent_field: parent, "status": VersionStatus.PUBLISHED}
        ).first()
        if current is not None and current.definition == data:
            return current, False
        version = version_create(
            model, parent={parent_field: parent}, definition=dict(data)
        )
        return version_publish(
            model, version_id=version.pk, parent_field=parent_field
        ), True


def version_publish(model: type[V], *, version_id: int, parent_field: str) -> V:
    """Publish a draft; the version published before it is retired, atomically."""
    with transaction.atomic():
        version = model._default_manager.select_for_update().get(pk=version_id)
        if version.status != VersionStatus.DRAFT:
            raise VersionNotDraft(f"{version} is {version.status}, not a draft.")
        parent_id = getattr(version, f"{parent_field}_id")
        model._default_manager.filter(
            **{f"{parent_field}_id": parent_id, "status": VersionStatus.PUBLISHED}
        ).update(status=VersionStatus.RETIRED)
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
    return version


def version_draft_copy(model: type[V], *, from_version_id: int, parent_field: str) -> V:
    """A new draft holding a copy of another version's definition, to edit."""
    source = model._default_manager.get(pk=from_version_id)
    parent_id = getattr(source, f"{parent_field}_id")
    return version_create(
        model,
        parent={f"{parent_field}_id": parent_id},
        definition=source.definition,
    )
