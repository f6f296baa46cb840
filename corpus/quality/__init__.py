"""GPT-3's quality classifier: fastText trained on reference text (WebText) against raw crawl text,
the Pareto keep rule, and the tap that saves raw text for the negatives."""
