"""The model stage: checkpoint loading and validation, I-ViT's fake-quant modules, the demo
checkpoint, images and the params export.

Submodules are imported explicitly (`from ivit_gemmini.model.checkpoint import load_checkpoint`)
so that importing one piece never pulls in torch, timm or PIL for another.
"""
