"""Tests for the sound engine."""
