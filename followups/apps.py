from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        # What leads announces, follow-ups acts on (core/hooks.py says how).
        from booking.hooks import booking_changed
        from followups.services import (
            followups_booking_changed,
            followups_events_receive,
        )
        from leads.hooks import lead_events_recorded

        lead_events_recorded.subscribe(followups_events_receive)
        booking_changed.subscribe(followups_booking_changed)
        # The mail provider's webhooks (django-anymail): bounces and complaints.
        from anymail.signals import tracking

        from followups.services import email_event_receive

        tracking.connect(email_event_receive, dispatch_uid="followups.email_event")

        from core.privacy import Holder, personal_data_holder_register
        from followups.privacy import followups_person_erase, followups_person_export

        personal_data_holder_register(
            Holder(
                name="followups",
                export=followups_person_export,
                erase=followups_person_erase,
            )
        )
