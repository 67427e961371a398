"""The clinic's default follow-ups, written by migration 0002 and editable after.

The sequences are here; their templates, in the sandboxed language of
followups.rendering, are files in default_templates/: <key>.<language>.subject.txt,
.txt (the plain-text part) and .html.
"""

from pathlib import Path
from typing import Any

DIRECTORY = Path(__file__).parent / "default_templates"
KEYS = [
    "acknowledgment",
    "cleared",
    "declined",
    "nudge",
    "reminder_unbooked",
    "reengagement",
    "visit_preparation",
    "visit_reminder",
    "aftercare",
    "next_session",
    "maintenance",
    "booking_made",
    "booking_rescheduled",
    "booking_cancelled",
    "booking_link",
]
HOUR, DAY = 60, 24 * 60
VISIT_SEQUENCE = "Before a visit"
LANGUAGES = ["en", "tr"]


def default_templates() -> list[dict[str, str]]:
    """Every default template, as MessageTemplate fields."""
    return [
        {
            "key": key,
            "language": language,
            "subject": _read(f"{key}.{language}.subject.txt").strip(),
            "text_body": _read(f"{key}.{language}.txt"),
            "html_body": _read(f"{key}.{language}.html"),
        }
        for key in KEYS
        for language in LANGUAGES
    ]


SEQUENCES: list[dict[str, Any]] = [
    {
        "name": "Acknowledgment",
        "trigger": "submission_received",
        "category": "transactional",
        "stop_when_booked": False,
        "stop_when_lost": False,
        "steps": [
            {"position": 1, "template_key": "acknowledgment", "delay_minutes": 0}
        ],
    },
    {
        # The treatments a physician cleared can be booked: say so, with the link.
        "name": "Cleared by a physician",
        "trigger": "physician_cleared",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [{"position": 1, "template_key": "cleared", "delay_minutes": 0}],
    },
    {
        # Kindly, never a reason; the coordinator's call follows (a task in leads).
        "name": "Declined by a physician",
        "trigger": "physician_declined",
        "category": "transactional",
        "stop_when_booked": False,
        "stop_when_lost": False,
        "steps": [{"position": 1, "template_key": "declined", "delay_minutes": 0}],
    },
    {
        # An hour after the last page offered times that were not taken.
        "name": "Booking nudge",
        "trigger": "submission_received",
        "category": "transactional",
        "only_if_bookable": True,
        "steps": [{"position": 1, "template_key": "nudge", "delay_minutes": HOUR}],
    },
    {
        "name": "Reminders while not booked",
        "trigger": "submission_received",
        "category": "transactional",
        "steps": [
            {
                "position": n,
                "template_key": "reminder_unbooked",
                "delay_minutes": days * DAY,
            }
            for n, days in enumerate([1, 3, 7], start=1)
        ],
    },
    {
        "name": "Re-engagement of cold leads",
        "trigger": "submission_received",
        "category": "marketing",
        "steps": [
            {"position": 1, "template_key": "reengagement", "delay_minutes": 30 * DAY}
        ],
    },
    {
        # The booking itself, moved or cancelled, with the calendar file.
        "name": "Booking confirmation",
        "trigger": "booking_made",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [{"position": 1, "template_key": "booking_made", "delay_minutes": 0}],
    },
    {
        "name": "Booking moved",
        "trigger": "booking_rescheduled",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [
            {"position": 1, "template_key": "booking_rescheduled", "delay_minutes": 0}
        ],
    },
    {
        "name": "Booking cancelled",
        "trigger": "booking_cancelled",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [
            {"position": 1, "template_key": "booking_cancelled", "delay_minutes": 0}
        ],
    },
    {
        # Reminders cut missed visits.
        "name": VISIT_SEQUENCE,
        "trigger": "visit_booked",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [
            {
                "position": 1,
                "template_key": "visit_preparation",
                "delay_minutes": -2 * DAY,
            },
            {"position": 2, "template_key": "visit_reminder", "delay_minutes": -DAY},
        ],
    },
    {
        # The day after a session that took place (staff record it).
        "name": "Aftercare",
        "trigger": "session_attended",
        "category": "transactional",
        "stop_when_booked": False,
        "steps": [{"position": 1, "template_key": "aftercare", "delay_minutes": DAY}],
    },
    {
        # A course's next session, until it is booked.
        "name": "Next session of a course",
        "trigger": "session_attended",
        "category": "transactional",
        "only_mid_course": True,
        "steps": [
            {"position": 1, "template_key": "next_session", "delay_minutes": 3 * DAY},
            {"position": 2, "template_key": "next_session", "delay_minutes": 10 * DAY},
        ],
    },
    {
        # A coordinator on the phone sends the link to choose a time.
        "name": "Booking link (sent by staff)",
        "trigger": "sent_by_staff",
        "category": "transactional",
        "stop_when_booked": False,
        "stop_when_lost": False,
        "steps": [{"position": 1, "template_key": "booking_link", "delay_minutes": 0}],
    },
    {
        # At 6 and about 12 months after a course's last session, until booked.
        "name": "Maintenance after a course",
        "trigger": "maintenance_due",
        "category": "transactional",
        "steps": [
            {"position": 1, "template_key": "maintenance", "delay_minutes": 0},
            {"position": 2, "template_key": "maintenance", "delay_minutes": 182 * DAY},
        ],
    },
]


def defaults_install(message_template: Any, sequence: Any, step: Any) -> None:
    """Write the defaults that are missing, with these model classes (a migration's
    historical ones, or the app's): a template or sequence already there, edited
    or not, is left as it is."""
    for template in default_templates():
        message_template.objects.get_or_create(
            key=template["key"], language=template["language"], defaults=template
        )
    # An earlier migration's Sequence lacks the fields added since: a sequence
    # that needs one waits for the migration that installs again.
    known = {field.name for field in sequence._meta.get_fields()}
    for spec in SEQUENCES:
        fields = {k: v for k, v in spec.items() if k != "steps"}
        if not known.issuperset(fields):
            continue
        made, created = sequence.objects.get_or_create(
            name=spec["name"], defaults=fields
        )
        if created:
            for one in spec["steps"]:
                step.objects.create(sequence=made, **one)


def _read(name: str) -> str:
    return (DIRECTORY / name).read_text(encoding="utf-8")
