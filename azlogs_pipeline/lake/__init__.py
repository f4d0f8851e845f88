"""The lake on disk: path layout, atomic Parquet writes and the raw-lake schemas."""
