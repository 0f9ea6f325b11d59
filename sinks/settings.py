"""Stream settings: which log, where its files are, how the clients behave.

One frozen object, resolved once by the application layer (defaults < file
``[streams]`` < ``NEWSFLOW_STREAMS_*`` < flags) and passed down. With no
``bootstrap_servers`` the embedded SQLite log at ``db_path`` is used.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")


@dataclass(frozen=True, slots=True)
class StreamSettings:
    #: Kafka bootstrap servers ("host:port,..."); empty: the embedded log
    bootstrap_servers: str | None = None
    #: the embedded log's SQLite file
    db_path: str = "data/newsflow.db"
    #: records Kafka did not acknowledge wait here, in order, until it is back
    #: (``{host}`` is replaced by the host name, so containers sharing a volume keep their own)
    spool_path: str = "data/spool.db"
    #: the near-duplicate (repost) index of the cleaning worker
    index_path: str = "data/neardup.db"
    #: prefix of the four topic names
    topic_prefix: str = "newsflow."
    #: partitions per topic when the service creates them
    partitions: int = 6
    #: Kafka replication factor for created topics (3 on a production cluster)
    replication_factor: int = 1
    #: days the raw topic keeps pages for replay; 0 keeps them forever
    raw_retention_days: int = 0
    #: producer compression codec (gzip needs no extra package)
    compression: str = "gzip"
    #: largest record accepted (bytes); topics and clients are configured to match
    max_message_bytes: int = 10 * 1024 * 1024
    #: consumer group of the cleaning workers
    group: str = "newsflow-cleaner"
    #: a group member silent this long is dropped and its partitions move on
    session_timeout_ms: int = 30_000
    heartbeat_interval_ms: int = 3_000
    #: a member that does not poll this often leaves the group (Kafka only)
    max_poll_interval_ms: int = 300_000
    request_timeout_ms: int = 30_000
    #: a record not acknowledged within this is spooled
    delivery_timeout_ms: int = 60_000
    #: how long a send may wait for broker metadata before the record is spooled
    max_block_ms: int = 10_000
    #: producer retries before a record counts as undelivered (bounded)
    retries: int = 5
    #: records the worker cleans between commits
    batch_size: int = 100
    #: seconds a consumer waits for records before its loop goes round (and checks for a stop)
    poll_timeout: float = 1.0
    #: times the worker tries a record whose cleaning fails before it becomes a rejection
    clean_attempts: int = 3
    #: seconds the worker gives one page (cleaned in a child process); 0: no limit, in the worker itself
    clean_time_limit: float = 60.0
    #: seconds between retention and compaction runs (the embedded log; Kafka does its own)
    maintenance_interval: float = 600.0
    #: SimHash bits two articles may differ in and still be one story (0..3)
    near_dup_distance: int = 3
    #: seconds between attempts to drain the spool while Kafka is away
    retry_backoff: float = 1.0
    client_id: str = "newsflow"

    def __post_init__(self) -> None:
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, not {self.compression!r}")
        if not 0 <= self.near_dup_distance <= 3:
            raise ValueError("near_dup_distance must be 0..3 (the index finds up to 3 differing bits)")
        for name in (
            "partitions",
            "replication_factor",
            "batch_size",
            "max_message_bytes",
            "retries",
            "clean_attempts",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @property
    def embedded(self) -> bool:
        return not self.bootstrap_servers

    def path(self, name: str) -> Path:
        return Path(str(getattr(self, name)).replace("{host}", socket.gethostname()))
