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
    PrivacyRequest,
)

__all__ = [
    "AssignmentRule",
    "Lead",
    "LeadEvent",
    "LeadTask",
    "LeadTreatment",
    "PersonalDataErasure",
    "PrivacyRequest",
    "StaffNotification",
    "WebhookDelivery",
    "WebhookEndpoint",
]
