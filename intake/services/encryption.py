"""Key rotation: re-encrypt every stored health value with the newest key."""

from collections.abc import Callable

from django.db import models, transaction

from intake.encryption import health_bytes_rotate, health_token_rotate
from intake.models import IntakeDraft, ScreeningResult, Submission, SubmissionPhoto

BATCH = 200
# Each model and the ciphertext field it keeps.
ENCRYPTED_FIELDS: tuple[tuple[type[models.Model], str], ...] = (
    (Submission, "health_answers_ciphertext"),
    (IntakeDraft, "answers_ciphertext"),
    (ScreeningResult, "detail_ciphertext"),
    (SubmissionPhoto, "content_ciphertext"),
)


def health_data_reencrypt_all(
    *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Rotate every ciphertext to the newest key, in batches by primary key.

    Idempotent and resumable: a rotated value rotates again to the same key, and each
    batch commits on its own, so an interrupted run loses nothing.
    """
    counts: dict[str, int] = {}
    for model, field in ENCRYPTED_FIELDS:
        table = model._meta.label
        done, last_pk = 0, 0
        while True:
            with transaction.atomic():
                rows = list(
                    model._default_manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", field)[:BATCH]
                )
                for pk, token in rows:
                    rotated = (
                        health_bytes_rotate(bytes(token))
                        if isinstance(token, bytes | memoryview)
                        else health_token_rotate(token)
                    )
                    model._default_manager.filter(pk=pk).update(**{field: rotated})
            if not rows:
                break
            last_pk = rows[-1][0]
            done += len(rows)
            if progress:
                progress(table, done)
        counts[table] = done
    return counts
