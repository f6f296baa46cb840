"""Writing outputs: the shards of record, the manifest, the human report, atomically."""
