"""Keys of the model: MODEL (the registered model, classes, loss, head) and TIMESFORMER (size,
attention, initialization), with their defaults and meaning; part of the tree of
:mod:`timesformer.config.defaults`."""

from fvcore.common.config import CfgNode


def add_model_keys(cfg: CfgNode) -> None:
    """Add the MODEL and TIMESFORMER keys to ``cfg``."""
    # ---------------------------------------------------------------------------- #
    # Model
    # ---------------------------------------------------------------------------- #
    cfg.MODEL = CfgNode()

    # Model family; "vit" is the TimeSformer family, the only one. Checked but never read: the
    # original's YAML files set it, so it stays; MODEL.MODEL_NAME chooses the model.
    cfg.MODEL.ARCH = "vit"

    # Name in MODEL_REGISTRY. vit_base_patch16_224 builds the TimeSformer whose size
    # comes from the TIMESFORMER keys.
    cfg.MODEL.MODEL_NAME = "vit_base_patch16_224"

    # Number of classes the head predicts.
    cfg.MODEL.NUM_CLASSES = 400

    # Loss: "cross_entropy" (soft-target cross entropy is used with MIXUP).
    cfg.MODEL.LOSS_FUNC = "cross_entropy"

    # The original's head dropout key, kept so that its YAML files (which set 0.5) load: the
    # original TimeSformer builds it but never applies it, so the published models were trained
    # without head dropout. It has no effect here either; MODEL.HEAD_DROPOUT_RATE applies one.
    cfg.MODEL.DROPOUT_RATE = 0.5

    # Dropout on the pooled feature, before the classification head, in training (not in the
    # original code; 0: none, as the original trains).
    cfg.MODEL.HEAD_DROPOUT_RATE = 0.0

    # Label smoothing of the cross-entropy loss (without MIXUP).
    cfg.MODEL.LABEL_SMOOTHING = 0.0

    # Compile the model with torch.compile.
    cfg.MODEL.COMPILE = False

    # ---------------------------------------------------------------------------- #
    # TimeSformer
    # ---------------------------------------------------------------------------- #
    cfg.TIMESFORMER = CfgNode()

    # Space-time attention, a type registered in timesformer/models/attention_types/; built in:
    # divided_space_time, joint_space_time, space_only.
    cfg.TIMESFORMER.ATTENTION_TYPE = "divided_space_time"

    # ImageNet weights a training run starts from when it has nothing to resume or fine-tune
    # from (no checkpoint in OUTPUT_DIR, no TRAIN.CHECKPOINT_FILE_PATH); testing and the tools
    # never load them. As in the original: empty means the original's weights, timm's
    # vit_base_patch16_224.orig_in21k_ft_in1k (jx_vit_base_p16_224-80ecf9dd.pth, a ViT-Base/16),
    # downloaded once into timm's cache (Hugging Face hub cache); a path is a local ViT state dict
    # (.pth/.pt/.bin/.safetensors, or the JAX .npz). Also: any timm model name whose weights
    # timm has, or "none" for random initialization (training from scratch).
    cfg.TIMESFORMER.PRETRAINED_MODEL = ""

    # Token width. Defaults: ViT-Base/16.
    cfg.TIMESFORMER.EMBED_DIM = 768

    # Number of transformer blocks.
    cfg.TIMESFORMER.DEPTH = 12

    # Attention heads per block; must divide EMBED_DIM.
    cfg.TIMESFORMER.NUM_HEADS = 12

    # Side of the square patches; must divide the crop sizes.
    cfg.TIMESFORMER.PATCH_SIZE = 16

    # Hidden width of the MLP as a multiple of EMBED_DIM.
    cfg.TIMESFORMER.MLP_RATIO = 4.0

    # Stochastic depth rate of the last block, rising linearly from 0 over depth.
    cfg.TIMESFORMER.DROP_PATH_RATE = 0.1

    # Std of the truncated-normal initialization of the linear layers (attention,
    # MLP, head), as in the official code: 0.02, right for ViT-Base widths. Training a
    # small model from scratch, attention that starts nearly uniform (0.02 at width 64)
    # learns slowly; about 1.5 / sqrt(EMBED_DIM) makes it pick tokens from the first step.
    # Pretrained or loaded weights replace this initialization.
    cfg.TIMESFORMER.INIT_STD = 0.02

    # Std of the random initialization of the time embedding; 0: zeros, as the official
    # code, so that a model built on image weights starts as the image model (and is
    # blind to frame order until the embedding grows). Training from scratch, about 1.0
    # lets attention tell frames apart from the first step.
    cfg.TIMESFORMER.TIME_EMBED_INIT_STD = 0.0

    # Recompute each block's activations in the backward pass (less memory for long
    # clips, about one more forward pass of compute).
    cfg.TIMESFORMER.ACTIVATION_CHECKPOINTING = False
