import datetime as dt
from typing import Any

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from clinics.models import Location, StaffMember
from leads.models import Lead


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example")
    password = factory.django.Password("correct horse battery staple")


class StaffUserFactory(UserFactory):
    is_staff = True


class LocationFactory(factory.django.DjangoModelFactory[Location]):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"location-{n}")
    name = factory.LazyAttribute(lambda location: location.slug.title())


class StaffMemberFactory(factory.django.DjangoModelFactory[StaffMember]):
    """A coordinator (by default) working at the given `locations`."""

    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    user = factory.SubFactory(StaffUserFactory)
    role = StaffMember.Role.COORDINATOR
    languages = factory.LazyFunction(lambda: ["en", "tr"])

    @factory.post_generation  # type: ignore[untyped-decorator]
    def locations(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.locations.set(extracted)


class LeadFactory(factory.django.DjangoModelFactory[Lead]):
    """A new lead at `location`, due for first contact in an hour."""

    class Meta:
        model = Lead

    location = factory.SubFactory(LocationFactory)
    full_name = factory.Sequence(lambda n: f"Patient {n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    email_key = factory.LazyAttribute(lambda lead: lead.email.lower())
    phone = factory.Sequence(lambda n: f"+90532{n:07d}")
    preferred_language = "tr"
    first_contact_due_at = factory.LazyFunction(
        lambda: timezone.now() + dt.timedelta(hours=1)
    )
