"""`python -m detector_training [steps…]`: see pipeline.py."""

from .pipeline import main

main()
