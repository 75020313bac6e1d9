"""CLI nouns, one module each. Thin: parse, call the library, print."""
