"""Thin translators between platforms and the core: console, Discord, Slack."""
