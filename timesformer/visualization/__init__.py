"""TensorBoard writing and plots."""
