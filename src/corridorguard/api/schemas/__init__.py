"""Request and response schemas, per resource and direction (Create / Update / Public)."""
