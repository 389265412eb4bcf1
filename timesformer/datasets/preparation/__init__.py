"""Preparing a dataset for training (``tools/prepare_dataset.py``): split files and a class-names
file from one's own videos (listing), videos re-encoded to a short side (resizing), and a
downloaded tree checked against its official lists (official_lists, completeness).

Every mistake in a verb's input (a command-line value, a folder or a list it reads) is a
:class:`~timesformer.datasets.preparation.errors.PreparationError`, told in one line.
"""
