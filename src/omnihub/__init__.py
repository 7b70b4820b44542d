"""omnihub: the omnichannel order and inventory hub."""
__version__ = "0.1.0"
