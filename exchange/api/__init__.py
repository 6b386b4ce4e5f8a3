"""The REST API (``/api/v1``): the portal's services and permission checks, for machines."""
