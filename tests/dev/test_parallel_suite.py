"""`python3 dev.py test` runs the suite in parallel processes, each on a Redis database of its own."""

from __future__ import annotations

import importlib.util

from getresto.test_settings import broker_of_worker
from tests.processes import REPO_ROOT


def dev_module():
    spec = importlib.util.spec_from_file_location("dev_command", REPO_ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_parallel_process_has_the_next_redis_database():
    assert broker_of_worker("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/0"
    assert broker_of_worker("redis://127.0.0.1:6379/0", "gw2") == "redis://127.0.0.1:6379/2"
    assert broker_of_worker("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"
    assert broker_of_worker("redis://:secret@redis.example.com:6380/4", "gw3") == "redis://:secret@redis.example.com:6380/7"


def test_the_suite_runs_in_parallel_unless_told_how_many_processes():
    dev = dev_module()
    assert dev.pytest_command([])[-2:] == ["-n", dev.TEST_PROCESSES]
    assert dev.pytest_command(["tests/orders"])[-3:] == ["-n", dev.TEST_PROCESSES, "tests/orders"]
    for told in (["-n", "0"], ["-n0"], ["--numprocesses=1"], ["--numprocesses", "2"]):
        command = dev.pytest_command(told)
        assert command[-len(told) :] == told
        assert command.count("-n") + sum(arg.startswith("--numprocesses") for arg in command) <= 1
