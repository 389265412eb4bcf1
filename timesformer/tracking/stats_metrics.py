"""A json_stats record (the dict the meters log) as tracker metrics and the step they belong to.

``{"split": "train_iter", "epoch": "2/10", "iter": "40/120", "loss": 0.5, "eta": "0:10:00"}``
gives ``{"train_iter/loss": 0.5}`` at step 160: every numeric field, named ``{split}/{field}``
(text such as "epoch" or "eta" is no metric), at the global iteration of an iteration record,
the epoch (1-based) of an epoch record, 0 for a record without an epoch (``test_final``).
"""


def record_metrics(stats: dict) -> tuple[dict[str, float], int]:
    """``(metrics, step)`` of the json_stats record ``stats``; raises ValueError when its
    "epoch" or "iter" is not ``DONE/TOTAL`` text (or a number)."""
    split = stats.get("split", "stats")
    metrics = {
        f"{split}/{key}": float(value)
        for key, value in stats.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    return metrics, record_step(stats)


def record_step(stats: dict) -> int:
    """``(epoch - 1) * epoch_iters + iter`` of a record with "epoch" and "iter" ("2/10",
    "40/120"), the epoch of one with "epoch" only, else 0."""
    if "epoch" not in stats:
        return 0
    epoch, _ = _count(stats["epoch"])
    if "iter" not in stats:
        return epoch
    iteration, epoch_iters = _count(stats["iter"])
    if epoch_iters is None:
        raise ValueError(f"json_stats 'iter' {stats['iter']!r} is not DONE/TOTAL")
    return (epoch - 1) * epoch_iters + iteration


def _count(value: object) -> tuple[int, int | None]:
    """``"2/10"`` -> ``(2, 10)``; ``2`` or ``"2"`` -> ``(2, None)``."""
    done, _, total = str(value).partition("/")
    return int(done), int(total) if total else None
