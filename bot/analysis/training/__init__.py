"""Offline training and model-building scripts (need the training extras, not run time)."""
