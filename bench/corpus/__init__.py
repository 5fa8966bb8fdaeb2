"""The benchmark corpus generator's parts; ``bench/generate_corpus.py`` is the entry point."""
