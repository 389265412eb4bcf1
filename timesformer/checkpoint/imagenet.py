"""ImageNet initialization, as the paper does: an image ViT's weights (timm's naming; a local
file or a timm model name) inflated to the video model, and fetching them.

:func:`imagenet_weights_source` reads TIMESFORMER.PRETRAINED_MODEL as the original does,
:func:`fetch_imagenet_weights` gets timm's weights into its cache before a run starts (failing
in seconds, in one line, when their host cannot be asked: see
:mod:`~timesformer.checkpoint.weights_host`), and
:func:`load_pretrained_imagenet` loads them into a model (names of
:class:`~timesformer.models.vit.VisionTransformer`).
"""

import math
import os
import urllib.parse

import huggingface_hub
import timm
import torch
from timm.layers import resample_patch_embed
from timm.models import PretrainedCfg, get_pretrained_cfg
from torch import nn

from timesformer.checkpoint.files import CheckpointError, read_state_dict
from timesformer.checkpoint.formats import LoadResult, apply_state_dict, drop_mismatched_head
from timesformer.checkpoint.weights_host import download_obstacle, quiet_retries
from timesformer.models.attention import Block
from timesformer.models.embeddings import resize_pos_embed
from timesformer.models.vit import VisionTransformer, find_vision_transformer
from timesformer.utils.distributed import strip_wrapper_prefixes
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

IMAGE_WEIGHT_FILE_SUFFIXES = (".pyth", ".pth", ".pt", ".bin", ".ckpt", ".safetensors", ".npz")


def load_pretrained_imagenet(model: nn.Module, path_or_name: str) -> LoadResult:
    """Initialize ``model`` from an image ViT in timm's naming, as the paper does.

    The patch embedding is reshaped (or resampled) to the model's patch size, the
    position embedding resampled to its patch grid (bicubic over the 2-D grid; the
    original resizes the flattened sequence, nearest), the head dropped when the
    classes differ, and for divided attention ``temporal_attn`` / ``temporal_norm1``
    start as copies of ``attn`` / ``norm1`` with ``temporal_fc`` zero, so every block
    starts as the image block. ``time_embed`` keeps its initialization (zero).

    Args:
        path_or_name: a local state dict (``.pth``, ``.pt``, ``.bin``, ``.safetensors``;
            the original JAX ``.npz`` through timm), or a timm model name whose
            weights timm finds in its cache (without the network) or downloads.

    Raises:
        CheckpointError: no such file, a timm name whose weights cannot be had
            (offline), an unreadable file, or a shape that does not fit.
    """
    vit = find_vision_transformer(model)
    state_dict = strip_wrapper_prefixes(_imagenet_state_dict(path_or_name, vit))
    state_dict = _image_to_video_state_dict(state_dict, vit, path_or_name)
    return apply_state_dict(vit, state_dict, path_or_name, strict=False)


ORIGINAL_IMAGENET_WEIGHTS = "vit_base_patch16_224.orig_in21k_ft_in1k"
"""The original's ImageNet initialization by its timm name: the ViT-Base/16 of
``jx_vit_base_p16_224-80ecf9dd.pth`` (ImageNet-21k, fine-tuned on ImageNet-1k), which the
original downloads when TIMESFORMER.PRETRAINED_MODEL is empty."""

RANDOM_INIT = "none"
"""TIMESFORMER.PRETRAINED_MODEL value for random initialization (training from scratch)."""


def imagenet_weights_source(pretrained_model: str) -> str | None:
    """TIMESFORMER.PRETRAINED_MODEL -> the ImageNet weights it names (a file or a timm model
    name), or None for random initialization.

    ``""`` is :data:`ORIGINAL_IMAGENET_WEIGHTS`, as in the original; ``"none"`` (any case) is
    random initialization; anything else is a path or a timm model name, as given.
    """
    if pretrained_model == "":
        return ORIGINAL_IMAGENET_WEIGHTS
    if pretrained_model.lower() == RANDOM_INIT:
        return None
    return pretrained_model


def local_imagenet_weights(path_or_name: str) -> str | None:
    """The local file of the ImageNet weights ``path_or_name`` (the file itself, or a timm
    model's weights in timm's cache), found without the network; None when not there."""
    if _is_weight_file_name(path_or_name):
        return path_or_name if os.path.isfile(path_or_name) else None
    return cached_timm_weights(path_or_name) if timm.is_model(path_or_name) else None


def fetch_imagenet_weights(path_or_name: str) -> None:
    """Make sure the ImageNet weights ``path_or_name`` load without the network: a file that
    exists, or a timm model's weights in timm's cache, downloaded into it now when missing.

    Before downloading, the weights' host is asked once (:func:`download_obstacle`), so that
    offline mode or an unreachable host fails in seconds instead of after the hub's minute of
    retries; the download itself shows no retry warnings (:func:`quiet_retries`).

    Raises:
        CheckpointError: one line naming TIMESFORMER.PRETRAINED_MODEL, the weights, why they
            cannot be had, and the ways out (a local file, or random initialization).
    """
    if local_imagenet_weights(path_or_name) is not None:
        return
    if _is_weight_file_name(path_or_name):
        raise CheckpointError(f"TIMESFORMER.PRETRAINED_MODEL {path_or_name}: no such file.")
    _check_timm_name(path_or_name)
    pretrained_cfg = _pretrained_cfg(path_or_name)
    obstacle = download_obstacle(pretrained_cfg) if pretrained_cfg is not None else None
    if obstacle is not None:
        raise CheckpointError(_weights_unavailable(path_or_name, obstacle))
    logger.info("Downloading the ImageNet weights of timm model %s.", path_or_name)
    try:
        with quiet_retries():
            timm.create_model(path_or_name, pretrained=True)
    except Exception as err:  # network and hub errors come in many types
        raise CheckpointError(_weights_unavailable(path_or_name, err)) from err


def cached_timm_weights(name: str) -> str | None:
    """The local file of timm model ``name``'s pretrained weights in timm's caches (Hugging Face
    hub cache, or torch hub's for weights timm fetches by URL), without the network; None when
    not there."""
    pretrained_cfg = _pretrained_cfg(name)
    if pretrained_cfg is None:
        return None
    if pretrained_cfg.file and os.path.isfile(pretrained_cfg.file):
        return pretrained_cfg.file
    if pretrained_cfg.hf_hub_id:
        repo_id, _, revision = pretrained_cfg.hf_hub_id.partition("@")
        filenames = (
            [pretrained_cfg.hf_hub_filename]
            if pretrained_cfg.hf_hub_filename
            else ["model.safetensors", "pytorch_model.bin"]
        )
        for filename in filenames:
            path = huggingface_hub.try_to_load_from_cache(
                repo_id, filename, revision=revision or None
            )
            if isinstance(path, str):
                return path
    if pretrained_cfg.url:
        path = os.path.join(torch.hub.get_dir(), "checkpoints", _url_file_name(pretrained_cfg.url))
        if os.path.isfile(path):
            return path
    return None


def _pretrained_cfg(name: str) -> PretrainedCfg | None:
    """timm's pretrained config of model ``name``; None for a tag timm does not have (timm names
    it when loading) or a model without one."""
    try:
        return get_pretrained_cfg(name)
    except RuntimeError:
        return None


def _url_file_name(url: str | tuple[str, str]) -> str:
    """The name of the file timm downloads a weights URL to: the URL's last part, or the name a
    ``(url, file name)`` pair gives."""
    if isinstance(url, tuple):
        return url[1]
    return os.path.basename(urllib.parse.urlparse(url).path)


def _is_weight_file_name(path_or_name: str) -> bool:
    return (
        os.path.isfile(path_or_name)
        or os.sep in path_or_name
        or path_or_name.endswith(IMAGE_WEIGHT_FILE_SUFFIXES)
    )


def _check_timm_name(name: str) -> None:
    if not timm.is_model(name):
        raise CheckpointError(
            f"TIMESFORMER.PRETRAINED_MODEL {name!r} is neither a file nor a timm model name "
            f"(e.g. {ORIGINAL_IMAGENET_WEIGHTS!r}); set it to a ViT state dict file, to '' for "
            f"the original's ImageNet weights, or to {RANDOM_INIT!r} for random initialization."
        )


def _weights_unavailable(name: str, error: Exception) -> str:
    """One line: which weights, why they cannot be had, and the two ways out."""
    what = f"the weights of timm model {name}"
    if name == ORIGINAL_IMAGENET_WEIGHTS:
        what = f"the original's ImageNet weights (timm's {name}, jx_vit_base_p16_224-80ecf9dd.pth)"
    reason = (str(error).strip().splitlines() or [""])[0][:200]
    save = f"torch.save(timm.create_model('{name}', pretrained=True).state_dict(), 'vit.pth')"
    return (
        f"TIMESFORMER.PRETRAINED_MODEL: {what} are not in timm's cache and cannot be downloaded "
        f"({type(error).__name__}: {reason}). Set TIMESFORMER.PRETRAINED_MODEL to a local file "
        f"of them (e.g. saved where there is internet access with {save}), or to "
        f"{RANDOM_INIT!r} for random initialization."
    )


def _imagenet_state_dict(path_or_name: str, vit: VisionTransformer) -> dict[str, torch.Tensor]:
    """The timm-named state dict of a local file or a timm model name."""
    if _is_weight_file_name(path_or_name):
        if not os.path.isfile(path_or_name):
            raise CheckpointError(f"TIMESFORMER.PRETRAINED_MODEL {path_or_name}: no such file.")
        if path_or_name.endswith(".npz"):
            return _read_jax_npz(path_or_name, vit)
        return read_state_dict(path_or_name)
    return _timm_pretrained_state_dict(path_or_name)


def _timm_pretrained_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The weights of timm model ``name``: from timm's cache when there (no network), else as
    timm downloads them."""
    _check_timm_name(name)
    cached = cached_timm_weights(name)
    overlay = {"file": cached} if cached is not None else None
    try:
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay).state_dict()
    except Exception as err:  # network and hub errors come in many types
        raise CheckpointError(_weights_unavailable(name, err)) from err


def _read_jax_npz(path: str, vit: VisionTransformer) -> dict[str, torch.Tensor]:
    """A JAX ``.npz`` ViT checkpoint read by timm into a timm ViT of the model's size."""
    from timm.models.vision_transformer import VisionTransformer as TimmVisionTransformer

    patch_h, patch_w = vit.patch_embed.patch_size
    grid_h, grid_w = vit.patch_embed.grid_size
    first_block = vit.blocks[0]
    assert isinstance(first_block, Block)  # every attention type's block is one
    hidden = first_block.mlp.fc1
    assert isinstance(hidden, nn.Linear)  # timm's Mlp of linear layers (not 1x1 convolutions)
    image_vit = TimmVisionTransformer(
        img_size=(grid_h * patch_h, grid_w * patch_w),
        patch_size=patch_h,
        embed_dim=vit.embed_dim,
        depth=len(vit.blocks),
        num_heads=first_block.attn.num_heads,
        mlp_ratio=hidden.out_features / vit.embed_dim,
        qkv_bias=True,
        num_classes=0,
    )
    try:
        image_vit.load_pretrained(path)
    except Exception as err:  # numpy / key errors from timm's reader
        raise CheckpointError(
            f"{path} is not a JAX ViT checkpoint timm can read for this model size: {err}"
        ) from err
    return image_vit.state_dict()


def _image_to_video_state_dict(
    state_dict: dict[str, torch.Tensor], vit: VisionTransformer, source: str
) -> dict[str, torch.Tensor]:
    """An image ViT's weights fitted to the video model ``vit`` (see load_pretrained_imagenet)."""
    state_dict = dict(state_dict)
    if "patch_embed.proj.weight" in state_dict:
        state_dict["patch_embed.proj.weight"] = _fit_patch_embed(
            state_dict["patch_embed.proj.weight"], vit
        )
    if "pos_embed" in state_dict:
        state_dict["pos_embed"] = _fit_image_pos_embed(state_dict["pos_embed"], vit)
    drop_mismatched_head(state_dict, vit, source)
    state_dict.update(_video_block_init(state_dict, vit))
    return state_dict


def _fit_patch_embed(weight: torch.Tensor, vit: VisionTransformer) -> torch.Tensor:
    """Patch filter: a linear patchify (D, C*p*p) -> conv (D, C, p, p); resample to the model's
    patch size."""
    out_channels, in_channels = vit.patch_embed.proj.weight.shape[:2]
    if weight.ndim == 2:
        side = math.isqrt(weight.shape[1] // in_channels)
        weight = weight.reshape(weight.shape[0], in_channels, side, side)
    patch_size = list(vit.patch_embed.patch_size)
    if list(weight.shape[-2:]) != patch_size:
        weight = resample_patch_embed(weight, patch_size)
    return weight


def _fit_image_pos_embed(pos_embed: torch.Tensor, vit: VisionTransformer) -> torch.Tensor:
    """(1, [1 +] h*w, D) -> the model's (1, 1 + H*W, D); a missing CLS position becomes zero."""
    tokens = pos_embed.shape[1]
    if math.isqrt(tokens) ** 2 == tokens:  # no CLS position (timm's no_embed_class)
        pos_embed = torch.cat((pos_embed.new_zeros(1, 1, pos_embed.shape[-1]), pos_embed), dim=1)
    return resize_pos_embed(pos_embed, vit.patch_embed.grid_size)


def _video_block_init(
    state_dict: dict[str, torch.Tensor], vit: VisionTransformer
) -> dict[str, torch.Tensor]:
    """The block members an image ViT lacks, as the attention type says: copies of image block
    members (``image_copies``: a divided block's ``temporal_attn`` / ``temporal_norm1`` from
    ``attn`` / ``norm1``) and zeros (``zero_init``: its ``temporal_fc``)."""
    spec, init = vit.attention_spec, {}
    for key, value in state_dict.items():
        parts = key.split(".", 3)  # "blocks.0.attn.qkv.weight": blocks, 0, attn, qkv.weight
        if len(parts) < 4 or parts[0] != "blocks":
            continue
        _, block_index, image_member, leaf = parts
        for member, source in spec.image_copies.items():
            if image_member == source:
                init[f"blocks.{block_index}.{member}.{leaf}"] = value.clone()
    for index, block in enumerate(vit.blocks):
        for member in spec.zero_init:
            for name, parameter in block.get_submodule(member).named_parameters():
                init[f"blocks.{index}.{member}.{name}"] = torch.zeros_like(parameter)
    return init
