"""One Chalice blueprint per resource."""
