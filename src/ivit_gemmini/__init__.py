"""ivit-gemmini: an integer-only Vision Transformer, from a QAT checkpoint to Gemmini."""

__version__ = "0.1.0"
