import helpers  # noqa: F401  (puts weights/ and this folder on sys.path)
