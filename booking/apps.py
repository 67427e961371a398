from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Booking")

    def ready(self) -> None:
        from booking.offers import booking_offer_answer
        from intake.hooks import booking_offer

        booking_offer.answer_with(booking_offer_answer)
