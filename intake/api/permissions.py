"""Who may read health data through the intake API.

Which submissions each may reach is the selectors' (submission_list_for_user); physician
decisions are made on the lead (leads.api: decisions, screening/reevaluate).
"""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class CanViewSubmissions(BasePermission):
    """Staff whose role lets them read submissions (Django's view permission)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_staff
            and user.has_perm("intake.view_submission")
        )
