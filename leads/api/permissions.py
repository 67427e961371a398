"""Who may use the staff leads API at all; which leads each sees is the selectors'."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from clinics.selectors import staff_role_get


class IsStaffMember(BasePermission):
    """A signed-in coordinator, physician or clinic admin (a superuser is one).

    A login without a StaffMember row is refused everywhere (403), even if is_staff.
    """

    message = "Only clinic staff with a role can use the leads API."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return staff_role_get(request.user) is not None
