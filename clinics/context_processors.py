from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from clinics.selectors import clinic_branding_get


def branding(request: HttpRequest) -> dict[str, object]:
    """The clinic's branding, read only by a page that shows it."""
    return {"clinic": SimpleLazyObject(clinic_branding_get)}
