"""webtext's library: records, readers, extractors, filters, dedup, shard I/O and executors.

Heavy dependencies (trafilatura, fastText, pyarrow) are imported by the modules that need them,
so importing one step does not pay for all of them.
"""
