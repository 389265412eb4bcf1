"""Helpers shared by the engine, the checkpoint layer, the models, the datasets and the tools;
they import no model and no dataset (distributed, logging, meters, metrics, the command-line
parser, old module paths kept working, ...)."""
