"""Draft -> published -> retired, shared by questionnaire and rule-set versions."""

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import BusinessError
from intake.models import ImmutableOncePublished, VersionStatus

V = TypeVar("V", bound=ImmutableOncePublished)


class VersionNotDraft(BusinessError):
    code = "version_not_draft"


class Imported(StrEnum):
    """What loading a shipped file did."""

    UNCHANGED = "unchanged"  # this file was loaded before
    PUBLISHED = "published"
    # The published version was made in the admin: the file's content waits as a
    # draft for someone to review and publish, instead of silently replacing it.
    DRAFTED = "drafted"


def definition_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of a definition's canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_create(
    model: type[V],
    *,
    parent: dict[str, Any],
    definition: Any,
    imported_digest: str = "",
) -> V:
    """A new draft numbered after the parent's newest version."""
    versions = model._default_manager.filter(**parent)
    last = versions.aggregate(last=Max("number"))["last"] or 0
    return model._default_manager.create(
        **parent,
        number=last + 1,
        definition=definition,
        imported_digest=imported_digest,
    )


def version_import(
    model: type[V],
    *,
    parent_field: str,
    parent: models.Model,
    data: Mapping[str, Any],
) -> tuple[V, Imported]:
    """Load a shipped file as a new version, once per content of the file.

    Published when the current version also came from a file (or none is published);
    kept as a draft when an admin published the current one. The caller has checked
    `data`.
    """
    digest = definition_digest(data)
    with transaction.atomic():
        type(parent)._default_manager.select_for_update().get(pk=parent.pk)
        versions = model._default_manager.filter(**{parent_field: parent})
        known = versions.filter(imported_digest=digest).order_by("-number").first()
        if known is not None:
            return known, Imported.UNCHANGED
        current = versions.filter(status=VersionStatus.PUBLISHED).first()
        version = version_create(
            model,
            parent={parent_field: parent},
            definition=dict(data),
            imported_digest=digest,
        )
        if current is not None and not current.imported_digest:
            return version, Imported.DRAFTED
        published = version_publish(
            model, version_id=version.pk, parent_field=parent_field
        )
        return published, Imported.PUBLISHED


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
