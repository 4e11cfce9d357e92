"""Reward-model training runs on cleaned data, their comparison and the model registry."""
