"""Offline emulator of the Clavata gateway."""
