from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        # What intake announces, leads acts on (core/hooks.py says how).
        from intake.hooks import screening_changed, submission_recorded
        from leads.services.handoff import (
            lead_submission_receive,
            lead_treatments_follow,
        )

        submission_recorded.subscribe(lead_submission_receive)
        screening_changed.subscribe(lead_treatments_follow)
