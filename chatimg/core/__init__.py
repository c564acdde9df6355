"""The product's core types: what an edit is and what a turn should do. Pydantic and stdlib only."""
