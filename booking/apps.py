from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Booking")

    def ready(self) -> None:
        from booking.offers import booking_offer_answer
        from intake.hooks import booking_offer

        booking_offer.answer_with(booking_offer_answer)

        from booking.privacy import booking_person_erase, booking_person_export
        from core.privacy import Holder, personal_data_holder_register

        personal_data_holder_register(
            Holder(
                name="booking", export=booking_person_export, erase=booking_person_erase
            )
        )
