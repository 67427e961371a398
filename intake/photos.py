"""Photo uploads: checked, re-encoded without metadata, sized for staff viewing."""

import io
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class PhotoInvalid(ValueError):
    """The upload is not a photo this service accepts; the message says why."""


@dataclass(frozen=True)
class PreparedPhoto:
    content_type: str
    data: bytes
    width: int
    height: int


def photo_prepare(upload: IO[bytes], *, size: int) -> PreparedPhoto:
    """Check an upload and re-encode it, dropping EXIF (location, device) and the like.

    Only the pixels survive: the image is rotated upright first, then saved anew.
    """
    if size > MAX_UPLOAD_BYTES:
        raise PhotoInvalid(_("Each photo must be 10 MB or smaller."))
    try:
        with Image.open(upload) as probe:
            kind = probe.format or ""
            if kind not in FORMATS:
                raise PhotoInvalid(_("Please upload a JPEG, PNG or WebP photo."))
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoInvalid(
                    _("This photo is too large; please send a smaller one.")
                )
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_SIDE, MAX_SIDE))
            if kind == "JPEG" and upright.mode not in {"RGB", "L"}:
                upright = upright.convert("RGB")
            out = io.BytesIO()
            # A fresh save writes no EXIF, XMP or ICC text unless asked to.
            upright.save(out, format=kind, quality=88)
            return PreparedPhoto(
                FORMATS[kind], out.getvalue(), upright.width, upright.height
            )
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise PhotoInvalid(_("Please upload a JPEG, PNG or WebP photo.")) from None
