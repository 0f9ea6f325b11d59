# newsflow: one image for every service (the command picks the role: run --role crawler, topics create, …).
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

# local state: the spool (records waiting for Kafka), the near-duplicate index, crawl state, service state
ENV NEWSFLOW_STREAMS_SPOOL_PATH=/var/lib/newsflow/spool-{host}.db \
    NEWSFLOW_STREAMS_INDEX_PATH=/var/lib/newsflow/neardup.db \
    NEWSFLOW_STREAMS_DB_PATH=/var/lib/newsflow/newsflow.db \
    NEWSFLOW_CRAWLER_STATE_DIR=/var/lib/newsflow/crawl \
    NEWSFLOW_SERVICE_STATE_PATH=/var/lib/newsflow/service.db \
    NEWSFLOW_SERVICE_METRICS_HOST=0.0.0.0
VOLUME /var/lib/newsflow
USER newsflow

EXPOSE 9108
ENTRYPOINT ["newsflow"]
CMD ["run"]
