"""Utilities shared by training, testing and the tools."""
