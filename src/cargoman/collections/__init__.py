"""Collections: named groups of packages that a customer can be granted as a whole."""
