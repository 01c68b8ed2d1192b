"""Code value sets and name lists, one module per kind of resource, each code with its source."""
