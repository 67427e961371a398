"""Signing in to the staff pages: a password (django-axes locks an account out
after repeated failures from one address), then, for clinic admins and anyone
who set one up, a code from an authenticator app (TOTP, django-otp)."""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.selectors import staff_is_physician, staff_role_get
from staff.access import code_still_owed
from staff.sessions import staff_session_start

DEVICE_NAME = "authenticator"
WRONG_CODE = _(
    "That code is not right, or it has run out. Check the phone's clock, then "
    "give the code the app shows now."
)


class StaffLoginView(LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        staff_session_start(self.request)
        return response

    def get_default_redirect_url(self) -> str:
        if staff_is_physician(self.request.user):
            return reverse("staff:review")
        return reverse("staff:queue")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("staff:queue")


def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the user's authenticator app; one who has none
    yet (a clinic admin at their first sign-in) sets it up first."""
    if not request.user.is_authenticated or staff_role_get(request.user) is None:
        return redirect(reverse("staff:login"))
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(f"{reverse('staff:otp-setup')}?next={_next(request)}")
    form = TokenForm(request.POST or None)
    if form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_next(request))
        form.add_error("token", WRONG_CODE)
    return render(
        request,
        "staff/verify.html",
        {"form": form, "next": _next(request)},
        status=422 if form.is_bound else 200,
    )


def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the code (or type the key), then give
    the code it shows. Only before a device is confirmed: a second one needs a
    clinic admin to remove the first in the admin."""
    if not request.user.is_authenticated or staff_role_get(request.user) is None:
        return redirect(reverse("staff:login"))
    user = request.user
    if user_has_device(user, confirmed=True):
        return redirect(f"{reverse('staff:verify')}?next={_next(request)}")
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name=DEVICE_NAME, confirmed=False
    )
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", WRONG_CODE)
    return render(
        request,
        "staff/otp_setup.html",
        {
            "form": form,
            "next": _next(request),
            "qr": _qr_svg(device.config_url),
            "key": base64.b32encode(device.bin_key).decode(),
        },
        status=422 if form.is_bound else 200,
    )


def _qr_svg(text: str) -> SafeString:
    """`text` as an inline SVG QR code (no image request, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    start = svg.index("<svg")
    # Our own markup from a library, not user input.
    return mark_safe(svg[start:])  # noqa: S308  # nosec B308, B703


def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin's sign-in is the staff one (with its lock-out and second factor)."""
    target = request.GET.get("next") or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('staff:login')}?next={target}")
    if code_still_owed(request.user):
        return redirect(f"{reverse('staff:verify')}?next={target}")
    raise PermissionDenied  # signed in, but the admin is not for them


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(reverse("staff:login"))
