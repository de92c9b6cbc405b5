"""The virtual passport chip and its profiles, for tests, demos and your own integration tests."""

from .chip import ChipConfig, VirtualChip

__all__ = ["ChipConfig", "VirtualChip"]
