from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import Location, StaffMember


class AssignmentRule(models.Model):
    """Who gets a new lead: the first active rule (by position) that matches it.

    A blank location, language or treatment matches any. Among the rule's
    coordinators (all coordinators of the lead's location when none are chosen)
    only those on duty and working at the lead's location take leads.
    """

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_LOADED = "least_loaded", _("Least loaded (fewest open leads)")

    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(
        default=100, help_text=_("Rules are tried from the lowest position up.")
    )
    is_active = models.BooleanField(default=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    language = models.CharField(
        max_length=8, blank=True, help_text=_("The patient's preferred language.")
    )
    treatment = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("A treatment code the patient asked about, e.g. mesotherapy."),
    )
    strategy = models.CharField(
        max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    coordinators = models.ManyToManyField(
        StaffMember,
        blank=True,
        related_name="assignment_rules",
        limit_choices_to={"role": StaffMember.Role.COORDINATOR},
    )
    # Round robin's place: the coordinator who had the previous lead.
    last_assigned = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name
