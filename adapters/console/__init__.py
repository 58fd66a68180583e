"""The console adapter."""
