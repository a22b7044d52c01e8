"""A scripted demonstrator: operator intent computed from the scene's ground truth."""
