"""The business-error base class; core.error_responses turns it into a JSON body."""


class BusinessError(Exception):
    """A refusal a caller can act on: a stable `code`, a message, and field errors."""

    code = "invalid"
    status_code = 400
    # Seconds until the same request may succeed: the API's Retry-After header.
    retry_after: int | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}
