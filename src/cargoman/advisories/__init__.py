"""Security advisories: known vulnerabilities of private and proxied packages (Pro and higher)."""
