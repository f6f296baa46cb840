"""Reading inputs: input lists (paths, globs, URLs, Common Crawl listings, byte ranges), WARC/WET/ARC
records as documents, and the shards of record."""
