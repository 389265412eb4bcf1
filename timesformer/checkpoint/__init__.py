"""Weights and training state, between the models and the engine: reading checkpoint files
safely, the formats weights come in, saving and resuming training, and where a run starts from.

* :mod:`~timesformer.checkpoint.files` — the one safe reader (``weights_only`` PyTorch files,
  safetensors, Hugging Face folders), :class:`Checkpoint`, the one ``CheckpointError``
* :mod:`~timesformer.checkpoint.formats` — official / state-dict names, fitted embeddings, the
  head of another class count, ``load_model_weights``, ``apply_state_dict``
* :mod:`~timesformer.checkpoint.hugging_face` — Hugging Face names and ``config.json``, both ways
* :mod:`~timesformer.checkpoint.conversion` — whole checkpoints to and from Hugging Face
* :mod:`~timesformer.checkpoint.imagenet` — ImageNet weights inflated to the video model, fetched
* :mod:`~timesformer.checkpoint.weights_host` — whether the weights' host answers, in seconds,
  and a download without retry noise
* :mod:`~timesformer.checkpoint.training_state` — the original's ``cu``: atomic saving,
  auto-resume, exact resume with random state, the weights a test uses
* :mod:`~timesformer.checkpoint.start_state` — the one start-state policy: resume, checkpoint
  (fine-tune), ImageNet or random, decided once
"""
