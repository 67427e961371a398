import pytest

from booking.models import AppointmentType
from clinics.models import Location
from tests.support.booking import appointment_make, practitioner_make


@pytest.fixture
def session(location: Location) -> AppointmentType:
    """A 45-minute mesotherapy session, bookable Mondays at no notice."""
    return appointment_make(practitioner_make(location))
