"""docker-compose.yml and the Dockerfile, checked without a Docker engine: services, images,
environment (every variable is a real setting) and every command they run exists in the CLI."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest
import yaml

from newsflow.cli import main
from newsflow.settings import cleaner_settings, crawler_settings, service_settings, stream_settings
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
SERVICES: dict[str, Any] = COMPOSE["services"]
NEWSFLOW_SERVICES = [name for name, service in SERVICES.items() if service.get("image", "").startswith("newsflow")]


def parse_command(args: list[str]) -> click.Command:
    """Resolve and parse ``newsflow ARGS`` the way click would, without running it."""
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        if not rest:
            raise click.UsageError(f"{command.name} needs a subcommand")
        name, *rest = rest
        found = command.get_command(click.Context(command), name)
        if found is None:
            raise click.UsageError(f"no command {name!r} in newsflow")
        command = found
    command.make_context(command.name, rest)  # raises on an unknown option or a bad value
    return command


def test_services_and_images() -> None:
    assert {"kafka", "topic-init", "scheduler", "crawler", "cleaner"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert set(NEWSFLOW_SERVICES) >= {"topic-init", "scheduler", "crawler", "cleaner"}
    assert all(SERVICES[name]["build"] == "." for name in NEWSFLOW_SERVICES)


def test_each_role_runs_in_its_own_service() -> None:
    for role in ("scheduler", "crawler", "cleaner"):
        assert SERVICES[role]["command"] == ["run", "--role", role]
    assert SERVICES["scheduler"].get("deploy", {}).get("replicas", 1) == 1, "two schedulers would double requests"
    assert SERVICES["crawler"]["deploy"]["replicas"] >= 2 and SERVICES["cleaner"]["deploy"]["replicas"] >= 2
    service = service_settings(env={k: str(v) for k, v in SERVICES["crawler"]["environment"].items()})
    assert service.metrics_host == "0.0.0.0", "/metrics must be reachable from outside the container"
    assert str(service.metrics_port) in SERVICES["crawler"]["healthcheck"]["test"][-1]


def test_kafka_runs_in_kraft_mode_with_room_for_large_pages() -> None:
    env = SERVICES["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert not any("ZOOKEEPER" in key for key in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from topic-init, with their configs"
    streams = stream_settings(env=SERVICES["cleaner"]["environment"])
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) > streams.max_message_bytes


@pytest.mark.parametrize("service", NEWSFLOW_SERVICES)
def test_every_command_exists_in_the_cli(service: str) -> None:
    command = SERVICES[service]["command"]
    assert isinstance(command, list)
    assert parse_command(command).callback is not None


def test_a_missing_command_would_be_caught() -> None:
    with pytest.raises(click.UsageError):
        parse_command(["no-such-command"])
    with pytest.raises(click.NoSuchOption):
        parse_command(["worker", "--no-such-option"])


@pytest.mark.parametrize("service", NEWSFLOW_SERVICES)
def test_environment_names_real_settings(service: str) -> None:
    env = {k: str(v) for k, v in SERVICES[service]["environment"].items()}
    assert all(re.match(r"NEWSFLOW_(STREAMS|CLEANER|CRAWLER|SERVICE)_[A-Z_]+$", key) for key in env)
    streams = stream_settings(env=env)  # raises on an unknown or malformed variable
    cleaner_settings(env=env)
    crawler_settings(env=env)
    service_settings(env=env)
    assert streams.bootstrap_servers == "kafka:9092" and not streams.embedded


def test_dockerfile_runs_the_cli_and_copies_what_exists() -> None:
    assert 'ENTRYPOINT ["newsflow"]' in DOCKERFILE
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd is not None and parse_command(yaml.safe_load(cmd.group(1)))
    for source in re.findall(r"^COPY (\S+)", DOCKERFILE, re.M):
        assert (ROOT / source).exists(), source
    env = dict(re.findall(r"(NEWSFLOW_\w+)=(\S+)", DOCKERFILE))
    assert stream_settings(env=env).path("spool_path").name.startswith("spool-")
