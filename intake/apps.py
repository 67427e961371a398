from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from core.privacy import Holder, personal_data_holder_register
        from intake.services.privacy import intake_person_erase, intake_person_export

        personal_data_holder_register(
            Holder(
                name="intake", export=intake_person_export, erase=intake_person_erase
            )
        )
