"""Azure SDK failures turned into one clear message: what went wrong and what to do next."""

from __future__ import annotations

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)
from azure.eventhub.exceptions import AuthenticationError, ConnectError, EventHubError

from azlogs_pipeline.config import Settings


class DrainError(RuntimeError):
    """The drain could not go on; nothing after the last checkpoint was lost."""


def explain(error: AzureError, settings: Settings, eventhub: str) -> DrainError:
    """A DrainError naming the setting to check; the SDK's own text follows for detail."""
    storage = settings.storage
    where = storage.account_url or "the storage account of AZLOGS_STORAGE_CONNECTION_STRING"
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, AuthenticationError):
        advice = (
            f"Event Hubs refused the credentials for hub {eventhub!r}. Check "
            "AZLOGS_EVENTHUB_CONNECTION_STRING (a shared access policy with Listen on the hub or "
            "its namespace) or, with Entra ID, that the identity has 'Azure Event Hubs Data "
            "Receiver' on the hub."
        )
    elif isinstance(error, ConnectError):
        advice = (
            f"Could not connect to Event Hubs for hub {eventhub!r}. Check the namespace in "
            "AZLOGS_EVENTHUB_CONNECTION_STRING / AZLOGS_EVENTHUB_NAMESPACE and that TCP 5671/5672 "
            "is open, or set AZLOGS_TRANSPORT=websocket to use port 443."
        )
    elif isinstance(error, EventHubError) and "not found" in detail.lower():
        advice = f"Event Hub {eventhub!r} was not found. Check AZLOGS_EVENTHUB_NAME."
    elif isinstance(error, ClientAuthenticationError) or (
        isinstance(error, HttpResponseError) and error.status_code in (401, 403)
    ):
        advice = (
            f"The storage account ({where}) refused the credentials. Check "
            "AZLOGS_STORAGE_ACCOUNT_KEY (key 1 of AZLOGS_STORAGE_ACCOUNT_NAME) or "
            "AZLOGS_STORAGE_CONNECTION_STRING; with Entra ID the identity needs 'Storage Blob Data "
            f"Contributor' on the container {storage.container!r}."
        )
    elif isinstance(error, ServiceRequestError):
        advice = (
            f"The storage account ({where}) could not be reached. Check its name or URL and that "
            "outbound HTTPS (443) is allowed."
        )
    elif isinstance(error, HttpResponseError):
        advice = (
            f"The storage account ({where}) answered {error.status_code} {error.reason} for the "
            f"checkpoint container {storage.container!r}."
        )
    else:
        advice = f"Azure returned an error while draining {eventhub!r}."
    return DrainError(
        f"{advice} ({type(error).__name__}: {detail}) Nothing after the last checkpoint was "
        "lost; run the drain again once this is fixed."
    )
