"""Tests for ASMR Scenes."""
