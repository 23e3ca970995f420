"""The one exception type the weights tools raise for bad input."""


class ConvertError(Exception):
    """Bad input: the message names the file, tensor, shape or value at fault."""
