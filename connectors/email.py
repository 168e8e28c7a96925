"""Email over SMTP (STARTTLS or SSL, optional auth) with a Message-ID derived from the key."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, ClassVar

import aiosmtplib

from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import ConnectorSetup, register
from connectors.operations import SendEmail, is_runtime
from connectors.retry import PermanentError, RetryPolicy, TransientError, with_retries

if TYPE_CHECKING:
    from assistant.policy.rules import Destinations
    from assistant.schemas import Step


def message_id(idempotency_key: str, domain: str) -> str:
    """Return a stable Message-ID for a key, so receivers can drop a resent duplicate."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


@register
class EmailConnector(Connector):
    """Send email through an SMTP server."""

    name = "email"
    operations: ClassVar[Mapping[str, Operation]] = {
        "send_email": Operation("send_email", SendEmail, "medium", "Send an email over SMTP"),
    }
    setup_hint: ClassVar[str] = "set SMTP_HOST (and SMTP_USERNAME/SMTP_PASSWORD) to send for real"
    listed = 20

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the connector when ``SMTP_HOST`` is set."""
        c = setup.credentials
        if not c.smtp_host:
            return None
        return cls(
            host=c.smtp_host,
            port=c.smtp_port,
            username=c.smtp_username,
            password=c.smtp_password,
            starttls=c.smtp_starttls,
            use_ssl=c.smtp_ssl,
            sender=c.smtp_from,
            retry=setup.retry,
        )

    @classmethod
    def destination_problem(cls, step: Step, where: Destinations) -> str | None:
        """Refuse recipients outside the policy's domains (customers come from ticket data)."""
        from assistant.policy.destinations import APPROVAL_MATRIX, email_addresses

        for address in email_addresses(step):
            if not is_runtime(address) and not where.email_allowed(address):
                return (
                    f"Email to {address} is not allowed: outside {', '.join(where.email_domains)}; "
                    f"customer addresses must come from ticket data ({APPROVAL_MATRIX})"
                )
        return None

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        use_ssl: bool = False,
        sender: str = "flowdraft@northwind.example",
        retry: RetryPolicy | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(sandbox=not host)
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.use_ssl = starttls and not use_ssl, use_ssl
        self.sender = sender
        self.retry = retry or RetryPolicy()
        self.tls_context = tls_context

    def build(self, params: SendEmail, idempotency_key: str) -> EmailMessage:
        """Return the MIME message for ``params``."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(params.to)
        if params.cc:
            message["Cc"] = ", ".join(params.cc)
        message["Subject"] = params.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(idempotency_key, self.sender.rsplit("@", 1)[-1])
        message["X-Flowdraft-Idempotency-Key"] = idempotency_key
        message.set_content(params.body)
        return message

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Send the message, retrying connection problems and 4xx SMTP replies."""
        assert isinstance(params, SendEmail)
        message = self.build(params, idempotency_key)
        return await with_retries(lambda: self._send(message), self.retry, "email.send_email")

    async def _send(self, message: EmailMessage) -> ActionResult:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                start_tls=self.starttls,
                use_tls=self.use_ssl,
                tls_context=self.tls_context,
                timeout=self.retry.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            refused = ", ".join(f"{e.recipient} ({e.code})" for e in exc.recipients)
            if codes and all(400 <= code < 500 for code in codes):
                raise TransientError(f"recipients deferred: {refused}") from None
            raise PermanentError(f"recipients refused: {refused}") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"SMTP login refused: {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise TransientError(f"SMTP {exc.code} {exc.message}") from None
            raise PermanentError(f"SMTP {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientError(
                f"cannot reach SMTP server {self.host}:{self.port}: {exc}"
            ) from None
        return ActionResult(
            status="ok",
            detail=f"emailed {message['To']} ({message['Subject']})",
            external_id=str(message["Message-ID"]),
        )
