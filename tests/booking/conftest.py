import pytest

from booking.models import AppointmentType
from clinics.models import Location, Practitioner
from tests.support.booking import appointment_make, practitioner_make


@pytest.fixture
def doctor(location: Location) -> Practitioner:
    """Dr. Demir, who speaks Turkish and works Mondays 9 to 18 at `location`."""
    return practitioner_make(location)


@pytest.fixture
def session(doctor: Practitioner) -> AppointmentType:
    """A 45-minute mesotherapy session with Dr. Demir, bookable at no notice."""
    return appointment_make(doctor)
