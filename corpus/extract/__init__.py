"""Main text out of HTML: trafilatura (FineWeb's settings) or resiliparse, in a sandboxed child
process with a per-page timeout."""
