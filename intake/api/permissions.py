"""Who may read health data through the API, and who decides on screenings.

Which submissions each may reach is the selectors' (submission_list_for_user).
"""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from clinics.selectors import staff_is_physician


class CanViewSubmissions(BasePermission):
    """Staff whose role lets them read submissions (Django's view permission)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_staff
            and user.has_perm("intake.view_submission")
        )


class IsPhysician(BasePermission):
    """A signed-in physician, by staff role (clinics.selectors.staff_is_physician)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return staff_is_physician(request.user)
