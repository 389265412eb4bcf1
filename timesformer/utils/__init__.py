"""Helpers shared by the engine, the models, the datasets and the tools; they import no model
and no dataset (training checkpoints, distributed, logging, meters, metrics, the command-line
parser, ...)."""
