"""Training pipeline of the document detector (`python -m detector_training`)."""
