"""Deep-learning side of the toolkit (PyTorch): the TOSC-SR system and MI estimators."""
