"""timesformer.checkpoint.imagenet's pre-flight without the network (and
timesformer.checkpoint.weights_host): offline mode, a host that refuses, one that never answers,
and one that cannot be routed fail in one line within 10 s, with no retry warnings.

huggingface_hub reads HF_HUB_OFFLINE and HF_ENDPOINT when imported, so each case runs
fetch_imagenet_weights in a fresh process with empty weight caches; that process times the call.
"""

import json
import logging
import os
import socket
import subprocess
import sys

import pytest
from timm.models import PretrainedCfg

from timesformer.checkpoint.imagenet import ORIGINAL_IMAGENET_WEIGHTS
from timesformer.checkpoint.weights_host import download_obstacle, quiet_retries

FETCH = f"""
import json, time
from timesformer.checkpoint.files import CheckpointError
from timesformer.checkpoint.imagenet import fetch_imagenet_weights
start = time.monotonic()
try:
    fetch_imagenet_weights({ORIGINAL_IMAGENET_WEIGHTS!r})
    error = None
except CheckpointError as err:
    error = str(err)
print(json.dumps({{"seconds": time.monotonic() - start, "error": error}}))
"""

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
NON_ROUTABLE = "10.255.255.1"


def fetch_in_a_fresh_process(tmp_path, **hub_env):
    """fetch_imagenet_weights of the original's weights, empty caches, the hub environment
    ``hub_env`` and no proxy -> (its seconds, its CheckpointError's text, its stderr)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PROXIES and key not in ("HF_HUB_OFFLINE", "HF_ENDPOINT")
    }
    env.update(
        HF_HOME=str(tmp_path / "hf"),
        HF_HUB_CACHE=str(tmp_path / "hf" / "hub"),
        TORCH_HOME=str(tmp_path / "torch"),
        **hub_env,
    )
    done = subprocess.run(
        [sys.executable, "-c", FETCH], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["error"], done.stderr


def assert_fails_fast_in_one_line(seconds, error, stderr, *parts):
    assert error is not None and "\n" not in error
    assert error.startswith("TIMESFORMER.PRETRAINED_MODEL: the original's ImageNet weights")
    assert error.endswith("or to 'none' for random initialization.")
    for part in parts:
        assert part in error
    assert seconds < 10
    assert "Retry" not in stderr and "thrown while requesting" not in stderr


def closed_port():
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_mode_fails_at_once(tmp_path):
    seconds, error, stderr = fetch_in_a_fresh_process(tmp_path, HF_HUB_OFFLINE="1")
    assert_fails_fast_in_one_line(seconds, error, stderr, "offline mode is on (HF_HUB_OFFLINE)")
    assert seconds < 1


def test_an_endpoint_that_refuses_fails_at_once(tmp_path):
    port = closed_port()
    seconds, error, stderr = fetch_in_a_fresh_process(
        tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{port}"
    )
    assert_fails_fast_in_one_line(seconds, error, stderr, f"127.0.0.1:{port} cannot be reached")
    assert seconds < 1


def test_an_endpoint_that_never_answers_fails_within_the_probe_timeout(tmp_path):
    """A host that takes the connection and never answers (a black-holing firewall)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nothing ever reads or answers
        port = silent.getsockname()[1]
        seconds, error, stderr = fetch_in_a_fresh_process(
            tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{port}"
        )
    assert_fails_fast_in_one_line(seconds, error, stderr, f"127.0.0.1:{port} cannot be reached")


def test_a_non_routable_endpoint_fails_within_the_probe_timeout(tmp_path):
    try:
        socket.create_connection((NON_ROUTABLE, 80), timeout=1).close()
    except OSError:
        pass
    else:
        pytest.skip(f"this network answers for {NON_ROUTABLE} (a transparent proxy)")
    seconds, error, stderr = fetch_in_a_fresh_process(
        tmp_path, HF_ENDPOINT=f"http://{NON_ROUTABLE}"
    )
    assert_fails_fast_in_one_line(seconds, error, stderr, f"{NON_ROUTABLE} cannot be reached")


def test_weights_by_url_ask_their_own_host():
    """Weights without a hub id come from their URL's host, offline mode or not."""
    port = closed_port()
    obstacle = download_obstacle(PretrainedCfg(url=f"http://127.0.0.1:{port}/vit.pth"))
    assert isinstance(obstacle, ConnectionError)
    assert str(obstacle) == f"127.0.0.1:{port} cannot be reached ([Errno 111] Connection refused)"
    assert download_obstacle(PretrainedCfg()) is None  # no remote weights: timm explains


def test_retry_warnings_are_quiet_only_during_the_download():
    hub_http = logging.getLogger("huggingface_hub.utils._http")
    assert hub_http.isEnabledFor(logging.WARNING)
    with quiet_retries():
        assert not hub_http.isEnabledFor(logging.WARNING)
        assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.WARNING)
        assert hub_http.isEnabledFor(logging.ERROR)
    assert hub_http.isEnabledFor(logging.WARNING)
