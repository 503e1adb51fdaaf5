"""Mechanisms written once and shared by every provider: config, channels, errors, retries,
paging, batching and streams. A provider module declares *what*; these modules own *how*."""
