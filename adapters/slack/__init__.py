"""The slack adapter."""
