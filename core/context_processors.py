from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language


def clinic(request: HttpRequest) -> dict[str, object]:
    """The clinic's name, and this page's address in each language for the switch."""
    current = get_language()
    return {
        "clinic_name": settings.CLINIC_NAME,
        "language_links": [
            {
                "code": code,
                "name": name,
                "url": translate_url(request.path, code),
                "current": code == current,
            }
            for code, name in settings.LANGUAGES
        ],
    }
