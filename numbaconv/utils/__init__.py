"""Helpers outside the training path (cf. torch.utils): ``plot`` draws filters and feature maps (needs the `plot`
extra)."""
