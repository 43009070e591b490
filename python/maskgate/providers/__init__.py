"""Model providers reached other than by the default byte-exact Anthropic route."""
