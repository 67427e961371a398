"""The leads app's models, one module per part, importable from `leads.models`."""

from leads.models.assignment import AssignmentRule
from leads.models.delivery import (
    StaffNotification,
    WebhookDelivery,
    WebhookEndpoint,
)
from leads.models.lead import (
    Lead,
    LeadEvent,
    LeadTask,
    LeadTreatment,
    PersonalDataErasure,
)

__all__ = [
    "AssignmentRule",
    "Lead",
    "LeadEvent",
    "LeadTask",
    "LeadTreatment",
    "PersonalDataErasure",
    "StaffNotification",
    "WebhookDelivery",
    "WebhookEndpoint",
]
