"""Azure SDK failures turned into one clear message: what went wrong and what to do next.

One explainer for every Azure call (drains, `azlogs status`, `azlogs publish`, the archive load):
:func:`describe` names the setting to check and quotes the SDK's first line with every credential
masked, whichever SDK wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.eventhub.exceptions import AuthenticationError, ConnectError, EventHubError

from azlogs_pipeline.config import (
    ArchiveSettings,
    EventHubSettings,
    Secret,
    Settings,
    StorageSettings,
)
from azlogs_pipeline.errors import AzlogsError

_CREDENTIAL_IN_TEXT = re.compile(
    r"(?i)\b(sig|accountkey|sharedaccesskey|sharedaccesssignature|skoid|sktid)=[^&;\s'\"]+"
)
"""A key or SAS signature inside an SDK message (a request URL, a connection string)."""
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_BEARER = re.compile(r"(?i)\b(bearer|sharedaccesssignature)\s+[^\s'\"]+")

_NOT_FOUND = re.compile(r"(?i)not (be )?found|status code: 404")
AZURE_ERRORS: tuple[type[Exception], ...] = (AzureError, EventHubError)
"""What the Azure SDKs raise: azure-eventhub's errors do not derive from azure-core's."""


class DrainError(AzlogsError, RuntimeError):
    """The drain could not go on; nothing after the last checkpoint was lost."""


class ArchiveError(AzlogsError, RuntimeError):
    """The archive could not be read; what was already loaded stays valid and a reload is safe."""


class AzureAccessError(AzlogsError, RuntimeError):
    """An Azure service refused or could not be reached outside a drain (status, publish)."""


def mask_credentials(text: str, secrets: Iterable[Secret | None] = ()) -> str:
    """`text` with keys, signatures and tokens replaced by ``***``, and every configured secret
    value (and any ``AccountKey``/``SharedAccessKey`` inside one) removed wherever it appears."""
    for secret in secrets:
        if secret is None:
            continue
        value = secret.get()
        pieces = [
            value,
            *(m.group(0).split("=", 1)[1] for m in _CREDENTIAL_IN_TEXT.finditer(value)),
        ]
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= 8:
                text = text.replace(piece, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _BEARER.sub(r"\1 ***", _CREDENTIAL_IN_TEXT.sub(r"\1=***", text))


def _detail(error: BaseException, secrets: Iterable[Secret | None]) -> str:
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    masked = mask_credentials(first, secrets)
    return f"{type(error).__name__}: {masked}" if masked else type(error).__name__


def describe(error: Exception, settings: Settings, eventhub: str | None = None) -> str:
    """What to check for an Event Hubs or checkpoint-storage failure, then the SDK's masked text."""
    return _describe(error, settings.eventhub, settings.storage, eventhub)


def _describe(
    error: Exception,
    hubs: EventHubSettings,
    storage: StorageSettings | None,
    eventhub: str | None,
    sending: bool = False,
) -> str:
    secrets = [hubs.connection_string]
    if storage is not None:
        secrets += [storage.connection_string, storage.account_key]
    detail = _detail(error, secrets)
    hub = f"hub {eventhub!r}" if eventhub else "the Event Hubs namespace"
    right, role = ("Send", "Sender") if sending else ("Listen", "Receiver")
    if isinstance(error, AuthenticationError):
        advice = (
            f"Event Hubs refused the credentials for {hub}. Check "
            f"AZLOGS_EVENTHUB_CONNECTION_STRING (a shared access policy with {right} on the hub or "
            f"its namespace) or, with Entra ID, that the identity has 'Azure Event Hubs Data "
            f"{role}' on the hub."
        )
    elif isinstance(error, EventHubError) and _NOT_FOUND.search(detail):
        advice = (
            f"Event Hub {eventhub!r} was not found in the namespace. Check AZLOGS_EVENTHUB_NAME."
        )
    elif isinstance(error, ConnectError):
        advice = (
            f"Could not connect to Event Hubs for {hub}. Check the namespace in "
            "AZLOGS_EVENTHUB_CONNECTION_STRING / AZLOGS_EVENTHUB_NAMESPACE and that TCP 5671/5672 "
            "is open, or set AZLOGS_TRANSPORT=websocket to use port 443."
        )
    elif isinstance(error, EventHubError) or storage is None:
        advice = f"Event Hubs failed for {hub}."
    elif isinstance(error, ClientAuthenticationError) or (
        isinstance(error, HttpResponseError) and error.status_code in (401, 403)
    ):
        advice = (
            f"The storage account ({_where(storage)}) refused the credentials. Check "
            "AZLOGS_STORAGE_ACCOUNT_KEY (key 1 of AZLOGS_STORAGE_ACCOUNT_NAME) or "
            "AZLOGS_STORAGE_CONNECTION_STRING; with Entra ID the identity needs 'Storage Blob Data "
            f"Contributor' on the container {storage.container!r}."
        )
    elif isinstance(error, ResourceNotFoundError):
        advice = (
            f"The storage account ({_where(storage)}) has no container {storage.container!r} "
            "(AZLOGS_STORAGE_CONTAINER); the first drain creates it."
        )
    elif isinstance(error, ServiceRequestError):
        advice = (
            f"The storage account ({_where(storage)}) could not be reached. Check its name or URL "
            "(AZLOGS_STORAGE_ACCOUNT_NAME / AZLOGS_STORAGE_ACCOUNT_URL / "
            "AZLOGS_STORAGE_CONNECTION_STRING) and that outbound HTTPS (443) is allowed."
        )
    elif isinstance(error, HttpResponseError):
        advice = (
            f"The storage account ({_where(storage)}) answered {error.status_code} {error.reason} for the "
            f"checkpoint container {storage.container!r}."
        )
    else:
        advice = f"Azure returned an error for {hub}."
    return f"{advice} ({detail})"


def _where(storage: StorageSettings) -> str:
    return storage.account_url or "the storage account of AZLOGS_STORAGE_CONNECTION_STRING"


def explain(error: Exception, settings: Settings, eventhub: str) -> DrainError:
    """A DrainError naming the setting to check; the SDK's own text follows for detail."""
    return DrainError(
        f"{describe(error, settings, eventhub)} Nothing after the last checkpoint was lost; run "
        "the drain again once this is fixed."
    )


def explain_access(error: Exception, settings: Settings, eventhub: str | None) -> AzureAccessError:
    """An AzureAccessError for a call outside a drain (`azlogs status`, `azlogs publish`)."""
    return AzureAccessError(describe(error, settings, eventhub))


def explain_publish(error: Exception, hubs: EventHubSettings, eventhub: str) -> AzureAccessError:
    """An AzureAccessError for sending to a hub (`azlogs publish`, `azlogs generate --publish`)."""
    return AzureAccessError(_describe(error, hubs, None, eventhub, sending=True))


def explain_archive_error(error: Exception, settings: ArchiveSettings) -> ArchiveError:
    """An ArchiveError naming the setting to check; the SDK's first line follows for detail."""
    where = settings.account_url or "the account of the archive connection string"
    detail = _detail(error, [settings.connection_string, settings.account_key])
    if isinstance(error, ClientAuthenticationError) or (
        isinstance(error, HttpResponseError) and error.status_code in (401, 403)
    ):
        advice = (
            f"The archive storage account ({where}) refused the credentials. Check "
            "AZLOGS_ARCHIVE_CONNECTION_STRING (or the checkpoint account's key, used by default); "
            "with Entra ID the identity needs 'Storage Blob Data Reader' on the archive containers."
        )
    elif isinstance(error, ServiceRequestError):
        advice = (
            f"The archive storage account ({where}) could not be reached. Check "
            "AZLOGS_ARCHIVE_ACCOUNT_URL / AZLOGS_ARCHIVE_CONNECTION_STRING and that outbound HTTPS "
            "(443) is allowed."
        )
    elif isinstance(error, HttpResponseError):
        advice = f"The archive storage account ({where}) answered {error.status_code}."
    else:
        advice = f"Reading the archive storage account ({where}) failed."
    return ArchiveError(
        f"{advice} ({detail}) Files already written are valid; load the hour again once this is "
        "fixed (a reload replaces them)."
    )
