"""The demo clinic for `make run`: two locations (Istanbul, and Berlin with daylight
saving), two practitioners, three logins, a rule.

Loading is idempotent: a second run updates the same rows and resets the demo passwords
so that the ones printed always work. Only settings with DEMO_DATA_ALLOWED may load it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from clinics.models import ClinicBranding, Location, Practitioner, StaffMember
from core.errors import BusinessError
from leads.models import AssignmentRule


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str


_LOGINS = (
    # (role, username, password, full name, superuser)
    (
        StaffMember.Role.COORDINATOR,
        "coordinator",
        "demo-coordinator",
        "Deniz Coordinator",
        False,
    ),
    (
        StaffMember.Role.PHYSICIAN,
        "physician",
        "demo-physician",
        "Dr. Elif Physician",
        False,
    ),
    (StaffMember.Role.CLINIC_ADMIN, "admin", "demo-admin", "Ayla Admin", True),
)


@transaction.atomic
def demo_clinic_load() -> list[DemoLogin]:
    """Create or refresh the demo clinic and return the logins to print."""
    if not settings.DEMO_DATA_ALLOWED:
        raise BusinessError(
            "Demo data is only for development settings: it has known passwords.",
            code="demo_not_allowed",
        )
    location, _ = Location.objects.update_or_create(
        slug="nisantasi",
        defaults={
            "name": "Nişantaşı Clinic",
            "name_tr": "Nişantaşı Kliniği",
            "address": "Abdi İpekçi Cd. 1, 34367 Şişli/İstanbul",
            "phone": "+902120000000",
            "country": "TR",
            "time_zone": settings.TIME_ZONE,
        },
    )
    berlin, _ = Location.objects.update_or_create(
        slug="berlin",
        defaults={
            "name": "Berlin Mitte Clinic",
            "name_tr": "Berlin Mitte Kliniği",
            "address": "Friedrichstraße 100, 10117 Berlin",
            "phone": "+49300000000",
            "country": "DE",
            "time_zone": "Europe/Berlin",
        },
    )
    if not ClinicBranding.objects.exists():
        ClinicBranding.objects.create(
            name=settings.CLINIC_NAME,
            address="Abdi İpekçi Cd. 1, 34367 Şişli/İstanbul",
            phone="+90 212 000 00 00",
            email="hello@clinic.example",
            controller=(
                f"{settings.CLINIC_NAME} Ltd., Abdi İpekçi Cd. 1, 34367 Şişli/İstanbul"
            ),
            privacy_contact="privacy@clinic.example",
        )
    user_model = get_user_model()
    view_permissions = Permission.objects.filter(
        content_type__app_label__in=["clinics", "leads"], codename__startswith="view_"
    )
    # Physicians read submissions and their health answers; coordinators, for now, not.
    submission_reading = Permission.objects.filter(
        content_type__app_label="intake", codename="view_submission"
    )
    logins = []
    for role, username, password, full_name, is_superuser in _LOGINS:
        first_name, last_name = full_name.rsplit(" ", 1)
        user, _ = user_model.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo-clinic.example",
                "is_staff": True,
                "is_superuser": is_superuser,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        user.user_permissions.set(
            [*view_permissions]
            + ([*submission_reading] if role == StaffMember.Role.PHYSICIAN else [])
        )
        # The demo coordinator is also the lead coordinator: they may reassign.
        member, _ = StaffMember.objects.update_or_create(
            user=user,
            defaults={
                "role": role,
                "languages": ["en", "tr"],
                "is_lead_coordinator": role == StaffMember.Role.COORDINATOR,
            },
        )
        member.locations.set([location, berlin])
        logins.append(
            DemoLogin(role=str(role.label), username=username, password=password)
        )

    rule, _ = AssignmentRule.objects.update_or_create(
        name="Every new lead at Nişantaşı",
        defaults={
            "location": location,
            "strategy": AssignmentRule.Strategy.ROUND_ROBIN,
        },
    )
    rule.coordinators.set(StaffMember.objects.filter(user__username="coordinator"))

    physician_user = user_model.objects.get(username="physician")
    practitioners = [
        (
            "Dr. Elif Physician",
            Practitioner.Kind.PHYSICIAN,
            ["tr", "en"],
            physician_user,
        ),
        ("Selin Aesthetic Nurse", Practitioner.Kind.AESTHETICIAN, ["tr"], None),
    ]
    for display_name, kind, languages, practitioner_user in practitioners:
        practitioner, _ = Practitioner.objects.update_or_create(
            display_name=display_name,
            defaults={"kind": kind, "languages": languages, "user": practitioner_user},
        )
        # The physician also sees patients in Berlin on Saturdays (booking's demo).
        practitioner.locations.set(
            [location, berlin] if kind == Practitioner.Kind.PHYSICIAN else [location]
        )
    return logins
