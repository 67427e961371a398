"""Key rotation: re-encrypt every stored health value with the newest key.

Intake's own ciphertext columns rotate token by token; the notes staff write
(EncryptedTextField, in any app) are read with any key and written back, which
encrypts them with the newest.
"""

from collections.abc import Callable

from django.db import connection, models, transaction

from core.append_only import KEY_ROTATION_SETTING
from core.fields import encrypted_fields
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
    notes = [(f.model, f.name) for f in encrypted_fields("HEALTH_DATA_KEYS")]
    for model, field in (*ENCRYPTED_FIELDS, *notes):
        table = f"{model._meta.label}.{field}"
        done, last_pk = 0, 0
        while True:
            with transaction.atomic():
                _rotation_announce()
                rows = list(
                    model._default_manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", field)[:BATCH]
                )
                for pk, value in rows:
                    model._default_manager.filter(pk=pk).update(
                        **{field: _rotated(model, field, value)}
                    )
            if not rows:
                break
            last_pk = rows[-1][0]
            done += len(rows)
            if progress:
                progress(table, done)
        counts[table] = done
    return counts


def _rotated(model: type[models.Model], field: str, value: object) -> object:
    """`value` as read from the column, to be written back under the newest key."""
    if isinstance(value, bytes | memoryview):
        return health_bytes_rotate(bytes(value))
    if (model, field) in ENCRYPTED_FIELDS:
        return health_token_rotate(str(value))
    return value  # an EncryptedTextField: read with any key, saved with the newest


def _rotation_announce() -> None:
    """Tell the append-only triggers (core.append_only) that this transaction
    re-encrypts: the lead timeline lets its words take new ciphertext."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {KEY_ROTATION_SETTING} = 'on'")
