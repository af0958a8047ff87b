"""Demos: ``python -m demo.image_demo`` predicts images, folders and videos with a trained segmentor."""
