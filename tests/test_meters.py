"""Meters: multi-view test aggregation and its checks."""

import pytest
import torch

from timesformer.utils.meters import IncompleteViewsError, ScalarMeter, TestMeter, ensemble_views


def test_scalar_meter_window_median_and_weighted_mean():
    meter = ScalarMeter(window=2)
    for value, weight in ((1.0, 1), (10.0, 3), (4.0, 1)):
        meter.add(value, weight)
    assert meter.median() == 7.0
    assert meter.mean() == pytest.approx((1 + 30 + 4) / 5)


def _views(num_videos, views_per_video, num_classes, correct_video):
    """Views whose scores favour the true class only for video ``correct_video``."""
    scores, labels, items = [], [], []
    for video in range(num_videos):
        for view in range(views_per_video):
            score = torch.full((num_classes,), 0.1)
            score[video % num_classes if video == correct_video else (video + 1) % num_classes] = (
                0.9
            )
            scores.append(score)
            labels.append(video % num_classes)
            items.append(video * views_per_video + view)
    return torch.stack(scores), torch.tensor(labels), torch.tensor(items)


def test_views_combine_per_video_and_duplicates_count_once():
    meter = TestMeter(num_videos=3, views_per_video=2, num_classes=3, ensemble_method="sum")
    scores, labels, items = _views(3, 2, 3, correct_video=0)
    meter.update(scores, labels, items)
    meter.update(scores[:2], labels[:2], items[:2])  # padding duplicates of video 0
    stats = meter.finalize()
    assert stats["top1_acc"] == pytest.approx(100 / 3)
    assert torch.allclose(meter.video_scores[0], scores[0] * 2)
    assert stats["videos"] == 3 and stats["views_per_video"] == 2


def test_max_ensemble_takes_elementwise_maximum():
    meter = TestMeter(num_videos=1, views_per_video=2, num_classes=2, ensemble_method="max")
    meter.update(torch.tensor([[0.2, 0.8], [0.7, 0.3]]), torch.tensor([0, 0]), torch.tensor([0, 1]))
    assert torch.equal(meter.video_scores[0], torch.tensor([0.7, 0.8]))


# Three views of one video, logits over 3 classes.
LOGITS = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 4.0, 0.0], [1.5, -2.5, -1.0]])


def _combined(method: str, softmax: bool = False) -> torch.Tensor:
    meter = TestMeter(
        num_videos=1, views_per_video=3, num_classes=3, ensemble_method=method, softmax=softmax
    )
    meter.update(LOGITS, torch.tensor([1, 1, 1]), torch.tensor([0, 1, 2]))
    return meter.video_scores[0]


def test_sum_adds_the_views_raw_logits_as_the_original():
    # The original's utils/meters.py::TestMeter.update_stats: video_preds starts at zeros,
    # video_preds[vid] += preds[ind], preds being the model's outputs (no softmax).
    expected = torch.tensor([2.0 - 3.0 + 1.5, -1.0 + 4.0 - 2.5, 0.5 + 0.0 - 1.0])
    torch.testing.assert_close(_combined("sum"), expected)
    torch.testing.assert_close(ensemble_views(LOGITS, "sum", softmax=False), expected)


def test_max_is_the_originals_maximum_from_zero():
    # The original: video_preds[vid] = torch.max(video_preds[vid], preds[ind]) from zeros, so a
    # class whose logits are all negative scores 0.
    expected = torch.tensor([2.0, 4.0, 0.5])
    torch.testing.assert_close(_combined("max"), expected)
    torch.testing.assert_close(ensemble_views(LOGITS, "max", softmax=False), expected)
    negative = -LOGITS.abs()
    torch.testing.assert_close(ensemble_views(negative, "max", softmax=False), torch.zeros(3))


def test_ensemble_softmax_combines_probabilities():
    probabilities = LOGITS.softmax(dim=1)
    torch.testing.assert_close(_combined("sum", softmax=True), probabilities.sum(dim=0))
    torch.testing.assert_close(_combined("max", softmax=True), probabilities.max(dim=0).values)
    torch.testing.assert_close(
        ensemble_views(LOGITS, "sum", softmax=True), probabilities.sum(dim=0)
    )


def test_raw_logits_and_probabilities_can_rank_a_video_differently():
    """One confident view against three mild ones: its logit outweighs them, its probability
    does not (why the default follows the original)."""
    views = torch.tensor([[10.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert ensemble_views(views, "sum", softmax=False).argmax() == 0
    assert ensemble_views(views, "sum", softmax=True).argmax() == 1


def test_missing_views_are_named():
    meter = TestMeter(num_videos=2, views_per_video=2, num_classes=2, ensemble_method="sum")
    meter.update(torch.rand(3, 2), torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2]))
    with pytest.raises(
        IncompleteViewsError, match=r"1 test video\(s\) did not receive all 2 views: b\.mp4"
    ):
        meter.finalize(video_names=["a.mp4", "b.mp4"])


def test_skipped_videos_are_excluded_and_counted():
    meter = TestMeter(num_videos=2, views_per_video=1, num_classes=2, ensemble_method="sum")
    meter.update(
        torch.tensor([[0.9, 0.1], [0.0, 0.0]]), torch.tensor([0, -1]), torch.tensor([0, 1])
    )
    stats = meter.finalize()
    assert stats["skipped_videos"] == 1 and stats["videos"] == 1 and stats["top1_acc"] == 100.0
