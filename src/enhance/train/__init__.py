"""Training: the corpus, degradations, data, losses and the loop (the ``train`` extra)."""
