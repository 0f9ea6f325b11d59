"""The newsflow application layer: CLI and long-running service."""
