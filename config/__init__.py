"""Default settings and per-site YAML files, shipped as package data."""
