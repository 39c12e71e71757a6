"""Call records: the story of every call, as the call flow tells it, stored for the indicators."""
