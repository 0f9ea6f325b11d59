"""Topic contracts and log backends, Kafka and embedded SQLite (built by the streams issue)."""
