# newsflow: one image for every service (the CLI picks the role: worker, topics create, …).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /srv/newsflow
COPY pyproject.toml README.md ./
COPY cleaner ./cleaner
COPY crawler ./crawler
COPY sinks ./sinks
COPY config ./config
COPY newsflow ./newsflow
RUN pip install . \
    && useradd --system --home-dir /srv/newsflow newsflow \
    && mkdir -p /var/lib/newsflow \
    && chown newsflow /var/lib/newsflow

# local state: the spool (records waiting for Kafka) and the near-duplicate index
ENV NEWSFLOW_STREAMS_SPOOL_PATH=/var/lib/newsflow/spool-{host}.db \
    NEWSFLOW_STREAMS_INDEX_PATH=/var/lib/newsflow/neardup.db \
    NEWSFLOW_STREAMS_DB_PATH=/var/lib/newsflow/newsflow.db
VOLUME /var/lib/newsflow
USER newsflow

ENTRYPOINT ["newsflow"]
CMD ["worker"]
