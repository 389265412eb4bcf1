"""Whether the host of a timm model's pretrained weights can be asked now, found out in seconds,
and a download from it without retry noise.

timm downloads weights from the Hugging Face hub (the pretrained config's ``hf_hub_id``) or, for
weights without one, from their ``url`` through torch.hub. When the host cannot be reached, the
hub client retries for about a minute, printing two warnings a try, and a URL download waits for
the system's connect timeout. :func:`download_obstacle` says at once why a download cannot work:
the hub's offline mode (``HF_HUB_OFFLINE``), or no answer from the host within
:data:`PROBE_TIMEOUT_S`. The host is asked with the client that would download from it (the hub's
session, or urllib as torch.hub uses), so that proxies and the hub's client settings count as
they will for the download. :func:`quiet_retries` keeps the retry warnings off the console while
timm downloads.
"""

import contextlib
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

from huggingface_hub import constants as hub_constants
from huggingface_hub.utils import OfflineModeIsEnabled, get_session
from timm.models import PretrainedCfg

PROBE_TIMEOUT_S = 5.0
"""How long the host of the weights has to answer one HEAD request (name lookup included)."""

RETRY_LOGGERS = ("huggingface_hub", "urllib3")
"""The loggers of the retry warnings: the hub client's, and urllib3's (the transport of
huggingface_hub before 1.0, which the dependency range allows)."""


def download_obstacle(pretrained_cfg: PretrainedCfg) -> Exception | None:
    """Why timm cannot download the weights of ``pretrained_cfg`` now, or None when their host
    answers (or the config names no remote weights, for timm to explain).

    Weights with an ``hf_hub_id`` come from the hub (as timm loads them): offline mode stops
    them at once, otherwise the hub's endpoint (``HF_ENDPOINT``) is asked with the hub's own
    session. Weights with only a ``url`` come through urllib, which is asked the same way.
    """
    if pretrained_cfg.hf_hub_id:
        endpoint = hub_constants.ENDPOINT
        if hub_constants.HF_HUB_OFFLINE:
            return OfflineModeIsEnabled(
                f"offline mode is on (HF_HUB_OFFLINE), so the Hugging Face hub {endpoint} is not "
                "asked; unset HF_HUB_OFFLINE to download"
            )
        return _unanswered(endpoint, _hub_head)
    if pretrained_cfg.url:
        url = pretrained_cfg.url[0] if isinstance(pretrained_cfg.url, tuple) else pretrained_cfg.url
        return _unanswered(url, _urllib_head)
    return None


@contextlib.contextmanager
def quiet_retries() -> Iterator[None]:
    """Within: warnings of :data:`RETRY_LOGGERS` not shown (errors still are); their levels are
    restored after. A download that fails still fails with its exception."""
    loggers = [logging.getLogger(name) for name in RETRY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _unanswered(url: str, head: Callable[[str], None]) -> Exception | None:
    """None when ``head`` gets any answer from the host of ``url`` within
    :data:`PROBE_TIMEOUT_S`, else a ConnectionError naming the host and why.

    The request runs in a daemon thread so that a name lookup that hangs (which no socket
    timeout bounds) cannot hold the caller past the timeout.
    """
    parts = urllib.parse.urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    failures: list[Exception] = []
    answered = threading.Event()

    def ask() -> None:
        try:
            head(origin)
        except Exception as err:  # each client has its own connection errors
            failures.append(err)
        answered.set()

    threading.Thread(target=ask, name="weights-host-probe", daemon=True).start()
    if not answered.wait(PROBE_TIMEOUT_S):
        why = f"no answer within {PROBE_TIMEOUT_S:g} s"
    elif failures:
        why = (str(failures[0]).strip().splitlines() or [type(failures[0]).__name__])[0]
    else:
        return None
    return ConnectionError(f"{parts.netloc} cannot be reached ({why})")


def _hub_head(url: str) -> None:
    """HEAD ``url`` with the hub's session; any status is an answer."""
    get_session().head(url, timeout=PROBE_TIMEOUT_S)


def _urllib_head(url: str) -> None:
    """HEAD ``url`` with urllib, as torch.hub downloads; an HTTP error status is an answer."""
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S):
            pass
    except urllib.error.HTTPError:
        pass
    except urllib.error.URLError as err:  # its text wraps the reason in "<urlopen error ...>"
        raise ConnectionError(str(err.reason)) from err
