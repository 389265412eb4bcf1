"""Multi-head attention through SDPA: the softmax of scaled dot products, and the first token's
output alone."""

import math

import torch

from helpers import randomize_
from timesformer.models.attention import Attention


def test_attention_is_softmax_of_scaled_dot_products():
    torch.manual_seed(0)
    attention = Attention(dim=16, num_heads=2).eval()
    x = torch.randn(3, 5, 7, 16)  # two leading group dimensions
    q, k, v = attention.qkv(x).unflatten(-1, (3, 2, 8)).movedim(-3, 0).transpose(-3, -2)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1)
    expected = attention.proj((weights @ v).transpose(-3, -2).flatten(-2))
    torch.testing.assert_close(attention(x), expected)


def test_attention_first_token_alone_is_its_row_of_the_full_attention():
    torch.manual_seed(0)
    attention = randomize_(Attention(dim=24, num_heads=3))
    x = torch.randn(2, 5, 9, 24)
    torch.testing.assert_close(
        attention(x, cls_only=True), attention(x)[..., :1, :], rtol=1e-5, atol=1e-5
    )
