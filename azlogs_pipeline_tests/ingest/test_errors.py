"""One explainer for Azure failures: it names the setting to check and never shows a credential."""

from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.eventhub.exceptions import ConnectError

from azlogs_pipeline.config import load_archive_settings, load_settings
from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.ingest.errors import (
    explain,
    explain_access,
    explain_archive_error,
    mask_credentials,
)

KEY = "c2VjcmV0LWtleS1ieXRlcy1zZWNyZXQta2V5LWJ5dGVz"
SAS = "SECRETSIGNATURE123"
ENV = {
    "AZLOGS_EVENTHUB_CONNECTION_STRING": (
        f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey={SAS}"
    ),
    "AZLOGS_EVENTHUB_NAME": "adlogs",
    "AZLOGS_STORAGE_CONNECTION_STRING": (
        f"DefaultEndpointsProtocol=https;AccountName=logs;AccountKey={KEY};"
        "EndpointSuffix=core.windows.net"
    ),
}


def test_every_explainer_masks_what_the_sdk_quotes() -> None:
    settings = load_settings(ENV)
    leaky = (
        f"GET https://logs.blob.core.windows.net/c?sv=2022&sig={SAS}xyz failed; "
        f"AccountKey={KEY}; key {KEY} and {SAS} and postgresql://u:pw-1234@db:5432/x"
    )
    errors = [
        explain(ClientAuthenticationError(leaky), settings, "adlogs"),
        explain_access(ServiceRequestError(leaky), settings, None),
        explain(ConnectError(leaky), settings, "adlogs"),
        explain_archive_error(
            ClientAuthenticationError(leaky.replace(SAS, "")), load_archive_settings(ENV)
        ),
    ]
    for error in errors:
        text = str(error)
        assert isinstance(error, AzlogsError)
        assert KEY not in text and SAS not in text and "pw-1234" not in text, text
        assert "AZLOGS_" in text, "names the setting to check"


def test_mask_credentials_keeps_the_rest_of_the_message() -> None:
    masked = mask_credentials(f"refused: SharedAccessKey={SAS};EntityPath=adlogs")
    assert masked == "refused: SharedAccessKey=***;EntityPath=adlogs"
