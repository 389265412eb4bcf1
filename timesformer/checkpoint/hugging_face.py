"""Hugging Face ``transformers`` TimeSformer checkpoints: their parameter names and their
``config.json``, both ways (converting whole files: :mod:`timesformer.checkpoint.conversion`).

Official names carry the registered wrapper's ``model.`` prefix
(``model.blocks.0.attn.qkv.weight``); Hugging Face's are those of
``TimesformerForVideoClassification``
(``timesformer.encoder.layer.0.attention.attention.qkv.weight``).
"""

from collections.abc import Mapping

import torch
import yaml
from fvcore.common.config import CfgNode

from timesformer.checkpoint.files import CheckpointError
from timesformer.models.attention_types import (
    ATTENTION_TYPE_REGISTRY,
    AttentionSpec,
    attention_spec,
)

WRAPPER_PREFIX = "model."
_HF_TOP_LEVEL = {
    "timesformer.embeddings.cls_token": "model.cls_token",
    "timesformer.embeddings.position_embeddings": "model.pos_embed",
    "timesformer.embeddings.time_embeddings": "model.time_embed",
    "timesformer.embeddings.patch_embeddings.projection": "model.patch_embed.proj",
    "timesformer.layernorm": "model.norm",
    "classifier": "model.head",
}
_HF_BLOCKS = ("timesformer.encoder.layer.", "model.blocks.")
_HF_SHARED_BLOCK_MODULES = {
    "layernorm_before": "norm1",
    "attention.attention.qkv": "attn.qkv",
    "attention.output.dense": "attn.proj",
    "layernorm_after": "norm2",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
}
"""The members of every type's blocks (:class:`~timesformer.models.attention.Block`'s): Hugging
Face's name -> ours; each attention type adds its own (``AttentionSpec.hf_block_members``)."""
HF_DEFAULT_ATTENTION_TYPE = "divided_space_time"
"""``TimesformerConfig.attention_type`` when a config.json has none (Hugging Face's default)."""
_HF_BASE_MODEL_PREFIXES = ("embeddings.", "encoder.", "layernorm.")
# Hugging Face config values this model has fixed (the official architecture).
HF_FIXED_SETTINGS = {
    "hidden_act": "gelu",
    "qkv_bias": True,
    "layer_norm_eps": 1e-6,
    "num_channels": 3,
}


def check_hf_config(hf_config: Mapping | None, source: str) -> None:
    """Raise CheckpointError when a Hugging Face config differs from the architecture of this
    model."""
    for key, expected in HF_FIXED_SETTINGS.items():
        value = (hf_config or {}).get(key, expected)
        if value != expected:
            raise CheckpointError(
                f"{source}: config.json has {key} = {value!r}; this TimeSformer has {expected!r}."
            )


def is_hf_state_dict(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Whether the names are those of Hugging Face's TimeSformer."""
    return any("embeddings.patch_embeddings." in key for key in state_dict)


def convert_hf_state_dict(hf_state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face TimeSformer names -> official names (``model.`` prefix).

    Accepts ``TimesformerForVideoClassification`` and ``TimesformerModel`` (no head)
    state dicts. Raises CheckpointError on a name it does not know.
    """
    converted = {}
    for key, value in hf_state_dict.items():
        if key.startswith(_HF_BASE_MODEL_PREFIXES):
            key = "timesformer." + key
        converted[_rename(key, _HF_TOP_LEVEL, _HF_BLOCKS, _hf_block_modules())] = value
    return converted


def to_hf_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """VisionTransformer names (``blocks.0.attn.qkv.weight``: official names without the
    wrapper's ``model.``, see :func:`~timesformer.checkpoint.formats.to_model_names`) -> Hugging
    Face names."""
    top_level = {ours: hf for hf, ours in _HF_TOP_LEVEL.items()}
    block_modules = {ours: hf for hf, ours in _hf_block_modules().items()}
    hf_blocks, our_blocks = _HF_BLOCKS
    return {
        _rename(WRAPPER_PREFIX + key, top_level, (our_blocks, hf_blocks), block_modules): value
        for key, value in state_dict.items()
    }


def _hf_block_modules() -> dict[str, str]:
    """Hugging Face's name -> ours of every block member: those all blocks share, and those of
    each attention type's blocks."""
    modules = dict(_HF_SHARED_BLOCK_MODULES)
    for _, spec in ATTENTION_TYPE_REGISTRY:
        modules.update(spec.hf_block_members)
    return modules


def _rename(key: str, top_level: dict, blocks: tuple[str, str], block_modules: dict) -> str:
    """Rename ``key`` with the tables of one direction: top-level names, then block members."""
    module, _, leaf = key.rpartition(".")
    if key in top_level:
        return top_level[key]
    if module in top_level:
        return f"{top_level[module]}.{leaf}"
    source_blocks, target_blocks = blocks
    if key.startswith(source_blocks):
        index, _, member = key[len(source_blocks) :].partition(".")
        member_module, _, leaf = member.rpartition(".")
        if member_module in block_modules:
            return f"{target_blocks}{index}.{block_modules[member_module]}.{leaf}"
    raise CheckpointError(f"Unknown TimeSformer parameter {key!r}; cannot rename it.")


# ---------------------------------------------------------------------------- #
# config.json <-> config keys
# ---------------------------------------------------------------------------- #

HEAD_WIDTH = 64
"""Width of one attention head in ViTs; gives the head count when nothing else does."""


def cfg_from_hf_config(hf_config: dict) -> CfgNode:
    """The config keys that describe the model of a Hugging Face TimesformerConfig dict.

    A partial config: merge it into :func:`~timesformer.config.get_cfg` with
    ``merge_from_other_cfg``.
    """
    image_size, patch_size = hf_config.get("image_size", 224), hf_config.get("patch_size", 16)
    hidden_size = hf_config.get("hidden_size", 768)
    return CfgNode(
        {
            "DATA": {
                "TRAIN_CROP_SIZE": image_size if isinstance(image_size, int) else image_size[0],
                "NUM_FRAMES": hf_config.get("num_frames", 8),
            },
            "MODEL": {
                "NUM_CLASSES": len(hf_config.get("id2label", {})) or hf_config.get("num_labels", 2)
            },
            "TIMESFORMER": {
                "ATTENTION_TYPE": _attention_type_of_hf(
                    hf_config.get("attention_type", HF_DEFAULT_ATTENTION_TYPE)
                ),
                "EMBED_DIM": hidden_size,
                "DEPTH": hf_config.get("num_hidden_layers", 12),
                "NUM_HEADS": hf_config.get("num_attention_heads", 12),
                "PATCH_SIZE": patch_size if isinstance(patch_size, int) else patch_size[0],
                "MLP_RATIO": hf_config.get("intermediate_size", 4 * hidden_size) / hidden_size,
            },
        }
    )


def hf_config_kwargs(
    state_dict: Mapping[str, torch.Tensor],
    saved_cfg: dict,
    num_heads: int | None = None,
    num_frames: int | None = None,
) -> dict:
    """``TimesformerConfig`` arguments of VisionTransformer-named weights (``saved_cfg``, the
    checkpoint's config keys as a dict, where the weights are silent).

    The head count cannot be read from weights: ``num_heads``, else the saved
    TIMESFORMER.NUM_HEADS, else the width / :data:`HEAD_WIDTH`. ``num_frames`` matters for
    space-only weights only (the others carry a time embedding).
    """
    hidden_size = state_dict["pos_embed"].shape[-1]
    patch_size = state_dict["patch_embed.proj.weight"].shape[-1]
    grid = round((state_dict["pos_embed"].shape[1] - 1) ** 0.5)
    timesformer_cfg = saved_cfg.get("TIMESFORMER", {})
    data_cfg = saved_cfg.get("DATA", {})
    if "time_embed" in state_dict:
        num_frames = state_dict["time_embed"].shape[1]
    return dict(
        image_size=grid * patch_size,
        patch_size=patch_size,
        num_frames=num_frames or data_cfg.get("NUM_FRAMES", 8),
        hidden_size=hidden_size,
        num_hidden_layers=len(
            {key.split(".")[1] for key in state_dict if key.startswith("blocks.")}
        ),
        num_attention_heads=num_heads
        or timesformer_cfg.get("NUM_HEADS")
        or hidden_size // HEAD_WIDTH,
        intermediate_size=state_dict["blocks.0.mlp.fc1.weight"].shape[0],
        attention_type=attention_spec(attention_type_of(state_dict)).hf_attention_type,
        num_labels=state_dict["head.weight"].shape[0],
        layer_norm_eps=HF_FIXED_SETTINGS["layer_norm_eps"],
        qkv_bias=HF_FIXED_SETTINGS["qkv_bias"],
    )


def attention_type_of(state_dict: Mapping[str, torch.Tensor]) -> str:
    """The attention type, among those Hugging Face has, that VisionTransformer-named weights
    were trained with: the one whose own parameters (:func:`_own_parameters`) they have.

    Raises:
        CheckpointError: the weights have the parameters of no such type.
    """
    specs = _hf_attention_specs()
    candidates = set().union(*(_own_parameters(spec) for spec in specs.values()))
    found = {name for name in candidates if _has_parameter(state_dict, name)}
    for name, spec in specs.items():
        if _own_parameters(spec) == found:
            return name
    raise CheckpointError(
        f"Weights with {sorted(found) or 'none'} of {sorted(candidates)} are of no attention "
        "type Hugging Face has."
    )


def _hf_attention_specs() -> dict[str, type[AttentionSpec]]:
    """The registered attention types Hugging Face has, by TIMESFORMER.ATTENTION_TYPE."""
    return {name: spec for name, spec in ATTENTION_TYPE_REGISTRY if spec.hf_attention_type}


def _own_parameters(spec: type[AttentionSpec]) -> set[str]:
    """The modules that tell an attention type's weights apart: ``time_embed`` when its tokens
    have one, and the first block's own members (``blocks.0.temporal_fc``...)."""
    own = {f"blocks.0.{member}" for member in spec.hf_block_members.values()}
    return own | ({"time_embed"} if spec.tokens.has_time_embed else set())


def _has_parameter(state_dict: Mapping[str, torch.Tensor], name: str) -> bool:
    return any(key == name or key.startswith(name + ".") for key in state_dict)


def _attention_type_of_hf(hf_attention_type: str) -> str:
    """TIMESFORMER.ATTENTION_TYPE of Hugging Face's ``attention_type``.

    Raises:
        CheckpointError: no attention type here is that one.
    """
    ours = {spec.hf_attention_type: name for name, spec in _hf_attention_specs().items()}
    if hf_attention_type not in ours:
        raise CheckpointError(
            f"config.json has attention_type {hf_attention_type!r}; this TimeSformer has "
            f"{', '.join(map(repr, ours))}."
        )
    return ours[hf_attention_type]


def saved_cfg_dict(checkpoint: object) -> dict:
    """The ``cfg`` a checkpoint dict stores (YAML text or a dict) as a dict; {} when there is
    none."""
    cfg = checkpoint.get("cfg") if isinstance(checkpoint, dict) else None
    if isinstance(cfg, str):
        cfg = yaml.safe_load(cfg)
    return cfg if isinstance(cfg, dict) else {}
