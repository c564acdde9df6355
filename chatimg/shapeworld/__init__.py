"""Shape world: the procedural scenes the built-in painter is trained on and judged by."""
