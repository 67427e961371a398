"""What every part of the staff leads API shares: the error descriptions, the one
lookup of a lead, the signed-in user, and the shapes of a user and a treatment.

Every lead is looked up through leads.selectors.lead_list_for_user: a lead the user
may not see answers 404 (never 403), on reads and actions alike. A lead the user
sees but an action their role may not take answers 403.
"""

import uuid
from typing import Any, cast

from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from core.error_responses import ERROR_RESPONSE, error_response
from leads.models import Lead
from leads.selectors import lead_list_for_user

ERROR = ERROR_RESPONSE
NOT_VISIBLE = error_response(
    "No such lead, or not at one of your locations (the same answer)."
)
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200


def request_user(request: Request) -> User:
    """The signed-in user of a request IsStaffMember let through."""
    # IsStaffMember admits signed-in users only.
    return cast(User, request.user)


def lead_visible_get(request: Request, code: uuid.UUID) -> Lead:
    """The lead with `code` if the user may see it, else NotFound (404)."""
    lead = lead_list_for_user(user=request.user).filter(code=code).first()
    if lead is None:
        raise NotFound("No such lead.")
    return lead


class UserOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.get_username()


class LeadTreatmentOutputSerializer(serializers.Serializer[Any]):
    treatment = serializers.CharField()
    outcome = serializers.CharField(help_text="The screening outcome: triage only.")
    bookable_from = serializers.DateField(
        allow_null=True,
        help_text="For a deferral with an end date: the first day it may be booked.",
    )
