from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """The staff pages under /staff/: queue, lead page, physician queue, sign-in."""

    name = "staff"
    verbose_name = _("Staff workspace")
