"""The lake, local or in a blob container: its paths, storage seam, atomic Parquet writes, build
manifests and reconcile plan, the raw-lake schemas, DuckDB build sessions and the analysts'
read-only session. Which views the analysts' catalog holds is azlogs_pipeline/catalog.py's (it
knows every table and summary, so it sits above them)."""
