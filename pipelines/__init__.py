"""Entry points that wire corpus steps into the two recipes."""
