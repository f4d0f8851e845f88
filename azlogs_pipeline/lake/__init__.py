"""The lake, local or in a blob container: its paths, storage seam, atomic Parquet writes, build
manifests and reconcile plan, the raw-lake schemas and the analysts' catalog."""
