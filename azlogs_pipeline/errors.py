"""The base of every error azlogs explains itself.

Each subclass lives next to the code that raises it (``ConfigError`` in config.py, ``DrainError``,
``ArchiveError`` and ``AzureAccessError`` in ingest/errors.py, ``OwnershipLost`` in
ingest/ownership.py, ``ServiceError`` in local/processes.py, ``SqlError`` in lake/sessions.py); their messages say what went wrong
and what to do, never a secret. `azlogs` prints one line for any of them and exits non-zero.
"""


class AzlogsError(Exception):
    """An error whose message is written for the person running azlogs."""
