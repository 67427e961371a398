"""Who may read health data through the API, and who decides on screenings."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from leads.models import StaffMember


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
    """A signed-in physician (by staff role) or a superuser."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        member = getattr(user, "staff_member", None)
        return member is not None and member.role == StaffMember.Role.PHYSICIAN
