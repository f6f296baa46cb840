"""Where WebText's links come from: Reddit submissions (Pushshift-style dumps or the live API through
praw), the link rules that turn them into a links table, and the join of fetched pages with it."""
