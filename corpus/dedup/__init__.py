"""Removing repeated text: exact duplicates, near-duplicates (MinHash signatures and LSH banding)
and benchmark contamination (GPT-3's 13-gram rule)."""
