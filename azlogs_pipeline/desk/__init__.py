"""The analyst's desk: `azlogs sql` (one statement, a file or an interactive session), `azlogs
query` (the ready queries by name) and `azlogs sql --schema`, all on a read-only session locked to
the lake (`lake.read_only.connect_read_only`)."""

FORMATS = ("table", "csv", "json")
"""How results print: aligned text, CSV with a header line, or one JSON object per line."""
