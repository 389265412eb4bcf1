"""Resizing the position and time embeddings to another patch grid or clip length."""

import torch

from timesformer.models.embeddings import resize_pos_embed, resize_time_embed


def test_pos_embed_resize_keeps_cls_and_identity_at_same_grid():
    pos_embed = torch.randn(1, 1 + 4 * 4, 8)
    assert resize_pos_embed(pos_embed, (4, 4)) is pos_embed
    resized = resize_pos_embed(pos_embed, (6, 2), old_grid=(4, 4))
    assert resized.shape == (1, 1 + 6 * 2, 8)
    torch.testing.assert_close(resized[:, 0], pos_embed[:, 0])


def test_time_embed_resize_repeats_nearest_frames():
    time_embed = torch.arange(2.0).view(1, 2, 1).expand(1, 2, 3)
    resized = resize_time_embed(time_embed, 4)
    assert resized[0, :, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert resize_time_embed(time_embed, 2) is time_embed
