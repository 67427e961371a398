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

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(
        _("position"),
        default=100,
        help_text=_("Rules are tried from the lowest position up."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("location"),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("The patient's preferred language."),
    )
    treatment = models.CharField(
        _("treatment"),
        max_length=40,
        blank=True,
        help_text=_("A treatment code the patient asked about, e.g. mesotherapy."),
    )
    strategy = models.CharField(
        _("strategy"),
        max_length=20,
        choices=Strategy.choices,
        default=Strategy.ROUND_ROBIN,
    )
    coordinators = models.ManyToManyField(
        StaffMember,
        blank=True,
        related_name="assignment_rules",
        limit_choices_to={"role": StaffMember.Role.COORDINATOR},
        verbose_name=_("coordinators"),
    )
    # Round robin's place: the coordinator who had the previous lead.
    last_assigned = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last assigned to"),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name
