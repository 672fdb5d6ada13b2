"""Infrastructure shared by every service. Never business rules, never imports a service."""
