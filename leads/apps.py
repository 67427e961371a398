from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # What intake announces, leads acts on (core/hooks.py says how).
        from intake.hooks import screening_changed, submission_recorded
        from leads.services.handoff import (
            lead_submission_receive,
            lead_treatments_follow,
        )

        submission_recorded.subscribe(lead_submission_receive)
        screening_changed.subscribe(lead_treatments_follow)

        from core.privacy import personal_data_holder_register
        from leads.services.privacy import LEADS_HOLDER

        personal_data_holder_register(LEADS_HOLDER)
