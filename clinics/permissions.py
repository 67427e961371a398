"""Who may use the staff API at all, by role; every staff API view names one here.

Which objects each may reach is the selectors' (clinics.selectors.location_scoped):
another location's object answers 404, never 403. Who may read health data is
intake.services.health's, which checks it on every read.
"""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from clinics.selectors import staff_is_physician, staff_role_get


class IsStaffMember(BasePermission):
    """A signed-in coordinator, physician or clinic admin (a superuser is one).

    A login without a StaffMember row is refused everywhere (403), even if is_staff.
    """

    message = "Only clinic staff with a role can use the leads API."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return staff_role_get(request.user) is not None


class CanViewSubmissions(BasePermission):
    """Staff whose login may read submissions (Django's view permission)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_staff
            and user.has_perm("intake.view_submission")
        )


class IsPhysician(BasePermission):
    """A staff member whose StaffMember role is physician (a superuser is not one:
    clearing a contraindication is a clinical act). Listed after IsStaffMember.

    Checked on the object, once the view has found it (check_object_permissions):
    a lead the user may not see answers 404 first, whatever their role.
    """

    message = "Only a physician can make this decision."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return staff_is_physician(request.user)
