"""Taking a lead's row for a change: locked, and refused once merged into another."""

from core.errors import BusinessError
from leads.models import Lead


class LeadMerged(BusinessError):
    code = "lead_merged"
    status_code = 409


def lead_lock_open(lead: Lead) -> Lead:
    """The lead's row again, locked until the transaction ends; LeadMerged when it
    was merged into another lead, which is the one to work on. Call in a transaction.
    """
    locked = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner", "merged_into")
        .get(pk=lead.pk)
    )
    if locked.merged_into is not None:
        raise LeadMerged(
            "This lead was merged into another; work on that one instead.",
            fields={"merged_into": [str(locked.merged_into.code)]},
        )
    return locked
