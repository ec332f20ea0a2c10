"""Evaluation: host reference backends, top-k, prediction and agreement tables."""
